// The web console (web/, built by Vite into dist/console/) served beside the API by `winsmith
// server`: GET / is its page, GET /assets/NAME its scripts and styles (HEAD too: hono answers it from
// GET), added to the API's app and kept out of its OpenAPI document. The page moves between its
// views by the URL's fragment (#/machines), so no other path is the console's. Every answer carries a Content-Security-Policy that allows scripts,
// styles and connections to this server only, and nothing inline; the console keeps its token in
// the tab's memory and sends it as a Bearer header, never in a URL.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Hono } from 'hono';

export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  // The build's screenshot is fetched with the token and shown from a blob: URL.
  "img-src 'self' blob:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS = {
  'content-security-policy': CONSOLE_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
} as const;

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
  woff2: 'font/woff2',
};

/** The names Vite gives assets: a name, a hash, an extension; no path, no leading dot. */
const ASSET_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]*\.([a-z0-9]+)$/;

/** dist/console/ of this package, from src/server/ (run from a checkout) or dist/server/ alike. */
export function consoleDirectory(): string {
  return fileURLToPath(new URL('../../dist/console/', import.meta.url));
}

function notFound(text: string): Response {
  return new Response(`${text}\n`, {
    status: 404,
    headers: { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8' },
  });
}

async function fileAnswer(path: string, headers: Record<string, string>, missing: string): Promise<Response> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    return notFound(missing);
  }
  return new Response(new Uint8Array(bytes), {
    status: 200,
    headers: { ...SECURITY_HEADERS, ...headers, 'content-length': String(bytes.length) },
  });
}

/** Adds to `app` the console of `directory`, answered at / and /assets/. */
export function serveConsole(app: Hono, directory: string): void {
  const page = (): Promise<Response> =>
    fileAnswer(
      join(directory, 'index.html'),
      { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' },
      'the web console is not built here: run `npm run build` in the checkout',
    );
  app.get('/', page);
  app.get('/index.html', page);
  app.get('/assets/:name', (c) => {
    const name = c.req.param('name');
    const type = CONTENT_TYPES[ASSET_NAME.exec(name)?.[1] ?? ''];
    if (type === undefined) return notFound(`no asset ${JSON.stringify(name.slice(0, 100))}`);
    // Vite names each asset by its content's hash: a name never changes its bytes.
    return fileAnswer(
      join(directory, 'assets', name),
      { 'content-type': type, 'cache-control': 'public, max-age=31536000, immutable' },
      `no asset ${JSON.stringify(name)}`,
    );
  });
}
