// A server of a new data directory under DIR on 127.0.0.1 (any port), its first admin logged in
// for the CLI (a HOME of its own under DIR, WINSMITH_REPO pointing at the server): what the tests of
// commands run against a server share. Stopped after `fn`, whatever happens.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { LocalApp } from '../../src/app/local-app.ts';
import { embeddedSettings } from '../../src/config/server-config.ts';
import { silentLogger } from '../../src/server/log.ts';
import { serveRepository } from '../../src/server/serve.ts';
import type { RunningServer } from '../../src/server/server.ts';
import { runWinsmith, type CliRun } from './cli.ts';

export interface CliServer {
  readonly server: RunningServer;
  readonly app: LocalApp;
  /** The environment the CLI runs in: its HOME and WINSMITH_REPO. */
  readonly env: Readonly<Record<string, string>>;
  /** Runs the CLI as the admin. */
  readonly winsmith: (args: readonly string[], input?: string) => Promise<CliRun>;
  /** Runs the CLI as the admin; its stdout, asserting it succeeded. */
  readonly cli: (...args: string[]) => Promise<string>;
}

export async function withCliServer(dir: string, fn: (s: CliServer) => Promise<void>): Promise<void> {
  let admin = { name: '', password: '' };
  const settings = { ...embeddedSettings(join(dir, 'data')), port: 0 };
  const { server, app } = await serveRepository(settings, {
    logger: silentLogger,
    onFirstAdmin: (a) => (admin = a),
  });
  try {
    const env = {
      HOME: join(dir, 'home'),
      XDG_CONFIG_HOME: join(dir, 'home', '.config'),
      WINSMITH_REPO: server.url,
    };
    const winsmith = (args: readonly string[], input = ''): Promise<CliRun> =>
      runWinsmith([...args], { env, input });
    const login = await winsmith(
      ['login', server.url, '--user', 'admin', '--password-stdin'],
      `${admin.password}\n`,
    );
    assert.equal(login.code, 0, login.stderr);
    await fn({
      server,
      app,
      env,
      winsmith,
      cli: async (...args) => {
        const run = await winsmith(args);
        assert.equal(run.code, 0, `${args.join(' ')}: ${run.stderr}`);
        return run.stdout;
      },
    });
  } finally {
    await server.close();
  }
}
