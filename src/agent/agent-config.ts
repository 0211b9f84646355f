// What the agent is told at boot: the server, its deployment's token and the deployment, as the
// deploy environment's kernel command line carries them (AGENT_CMDLINE of the agent protocol):
//   … winsmith.server=http://10.0.0.1:8080 winsmith.token=… winsmith.deployment=…
// Parameters are split on spaces; a value may be in double quotes (as the kernel's own parser,
// lib/cmdline.c next_arg, allows). The token is a secret: no message here quotes the line.

import { AppError } from '../core/errors.ts';
import { AGENT_CMDLINE } from '../deploy/agent-protocol.ts';

export interface AgentConfig {
  /** The server's base URL (http or https, no credentials, no query). */
  readonly server: string;
  readonly token: string;
  readonly deployment: string;
}

/**
 * Each `key=value` of the line (a bare word gets an empty value); double quotes group spaces and are
 * dropped; a later key wins, as for the kernel.
 */
export function kernelParameters(line: string): Map<string, string> {
  const params = new Map<string, string>();
  let i = 0;
  while (i < line.length) {
    while (i < line.length && /\s/.test(line.charAt(i))) i++;
    if (i === line.length) break;
    let word = '';
    let quoted = false;
    for (; i < line.length; i++) {
      const c = line.charAt(i);
      if (c === '"') quoted = !quoted;
      else if (!quoted && /\s/.test(c)) break;
      else word += c;
    }
    const eq = word.indexOf('=');
    if (eq < 0) params.set(word, '');
    else params.set(word.slice(0, eq), word.slice(eq + 1));
  }
  return params;
}

function missing(key: string): AppError {
  return new AppError('INVALID_ARGUMENT', `the kernel command line has no ${key}=`, {
    hint: "boot the deploy environment from winsmith's boot menu, which sets winsmith.server, winsmith.token and winsmith.deployment",
  });
}

function serverUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new AppError('INVALID_ARGUMENT', `${AGENT_CMDLINE.server} is not a URL`, {
      hint: 'give it as http://HOST:PORT or https://HOST',
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new AppError(
      'INVALID_ARGUMENT',
      `${AGENT_CMDLINE.server} is a ${url.protocol} URL, expected http or https`,
    );
  }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw new AppError(
      'INVALID_ARGUMENT',
      `${AGENT_CMDLINE.server} carries credentials, a query or a fragment; expected http(s)://HOST[:PORT][/PATH]`,
      { hint: `the token goes in ${AGENT_CMDLINE.token}` },
    );
  }
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
}

/** The agent's settings from a kernel command line (e.g. the text of /proc/cmdline). */
export function parseAgentConfig(line: string): AgentConfig {
  const params = kernelParameters(line);
  const server = params.get(AGENT_CMDLINE.server);
  const token = params.get(AGENT_CMDLINE.token);
  const deployment = params.get(AGENT_CMDLINE.deployment);
  if (server === undefined || server === '') throw missing(AGENT_CMDLINE.server);
  if (token === undefined || token === '') throw missing(AGENT_CMDLINE.token);
  if (deployment === undefined || deployment === '') throw missing(AGENT_CMDLINE.deployment);
  return { server: serverUrl(server), token, deployment };
}
