// What the plain-HTTP boot listener serves beside an HTTPS API (docs/server.md, "TLS"): the boot
// routes (/boot/...: iPXE scripts, check-ins, boot files) and the deploy agent's routes. Debian's
// iPXE has no HTTPS, and the deploy environment's agent is given its server in the kernel command
// line the iPXE script carries; its token is good for one deployment under way, and has already
// crossed the boot network in that script. Every other path is refused with the API's address.

import { AGENT_PATHS } from '../app/session.ts';

/** Where the boot routes are mounted (src/boot/boot-url.ts). */
const BOOT_PREFIX = '/boot/';

/** Whether the plain boot listener serves `path`. */
export function isBootListenerPath(path: string): boolean {
  return (
    path.startsWith(BOOT_PREFIX) ||
    Object.values(AGENT_PATHS).some((p) => path === p || path.startsWith(`${p}/`))
  );
}

/**
 * The boot listener's handler: `fetch` for its paths; for any other a 404 in the API's error shape
 * (the CLI shows it as one line) that names the API's URL.
 */
export function bootListenerFetch<Rest extends unknown[]>(
  fetch: (request: Request, ...rest: Rest) => Response | Promise<Response>,
  apiUrl: () => string,
): (request: Request, ...rest: Rest) => Response | Promise<Response> {
  return (request, ...rest) => {
    if (isBootListenerPath(new URL(request.url).pathname)) return fetch(request, ...rest);
    const error = {
      code: 'NOT_FOUND',
      message: 'this listener serves only the boot routes and the deploy agent',
      hint: `use the API at ${apiUrl()}`,
    };
    return Response.json({ error }, { status: 404 });
  };
}
