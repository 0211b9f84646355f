// The web console (web/, built by Vite into dist/console/) served beside the API by `winsmith
// server`: GET / is its page, GET /assets/NAME its scripts and styles (HEAD too: hono answers it from
// GET), added to the API's app and kept out of its OpenAPI document. The page moves between its
// views by the URL's fragment (#/machines), so no other path is the console's. Every answer carries
// a Content-Security-Policy that allows scripts, styles and connections to this server only, and
// nothing inline; the console keeps its token in the tab's memory and sends it as a Bearer header,
// never in a URL.
//
// The bundle is read once, when the console is added: a request only looks a name up among the
// files read then, so no name it sends reaches the file system, and no request reads the disk.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Hono } from 'hono';
import { AppError } from '../core/errors.ts';

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

/**
 * The largest file of the bundle, kept in memory for the server's life: the console's script is
 * some 100 KiB; a file far past that is not one Vite made for it.
 */
export const MAX_CONSOLE_FILE_BYTES = 8 * 1024 * 1024;

const PAGE_HEADERS = { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' };

/** Vite names each asset by its content's hash: a name never changes its bytes. */
const ASSET_CACHE = 'public, max-age=31536000, immutable';

/** A file of the bundle as it is answered. */
interface ConsoleFile {
  readonly bytes: Uint8Array<ArrayBuffer>;
  readonly headers: Readonly<Record<string, string>>;
}

/** dist/console/ of this package, from src/server/ (run from a checkout) or dist/server/ alike. */
export function consoleDirectory(): string {
  return fileURLToPath(new URL('../../dist/console/', import.meta.url));
}

function isMissing(e: unknown): boolean {
  return (e as NodeJS.ErrnoException).code === 'ENOENT';
}

/** The bytes of `path` with `headers`; null when there is no such file. */
function readConsoleFile(path: string, headers: Readonly<Record<string, string>>): ConsoleFile | null {
  let bytes: Buffer;
  try {
    const size = statSync(path).size;
    if (size > MAX_CONSOLE_FILE_BYTES) {
      throw new AppError(
        'LIMIT_EXCEEDED',
        `console file ${path} is ${size} bytes, over the limit of ${MAX_CONSOLE_FILE_BYTES}`,
        { hint: 'rebuild the console with `npm run build`' },
      );
    }
    bytes = readFileSync(path);
  } catch (e) {
    if (isMissing(e)) return null;
    throw e;
  }
  return {
    bytes: new Uint8Array(bytes),
    headers: { ...SECURITY_HEADERS, ...headers, 'content-length': String(bytes.length) },
  };
}

/** The assets of `directory`/assets/ by name: those of a name Vite gives and a known type. */
function readAssets(directory: string): ReadonlyMap<string, ConsoleFile> {
  const assets = new Map<string, ConsoleFile>();
  let names: string[];
  try {
    names = readdirSync(directory);
  } catch (e) {
    if (isMissing(e)) return assets;
    throw e;
  }
  for (const name of names) {
    const type = CONTENT_TYPES[ASSET_NAME.exec(name)?.[1] ?? ''];
    if (type === undefined) continue;
    const file = readConsoleFile(join(directory, name), {
      'content-type': type,
      'cache-control': ASSET_CACHE,
    });
    if (file !== null) assets.set(name, file);
  }
  return assets;
}

function answer(file: ConsoleFile): Response {
  return new Response(file.bytes, { status: 200, headers: file.headers });
}

function notFound(text: string): Response {
  return new Response(`${text}\n`, {
    status: 404,
    headers: { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8' },
  });
}

/** Adds to `app` the console of `directory`, read now, answered at / and /assets/. */
export function serveConsole(app: Hono, directory: string): void {
  const page = readConsoleFile(join(directory, 'index.html'), PAGE_HEADERS);
  const assets = readAssets(join(directory, 'assets'));
  const pageAnswer = (): Response =>
    page === null
      ? notFound(
          'the web console is not built here: run `npm run build` in the checkout, then start the server again',
        )
      : answer(page);
  app.get('/', pageAnswer);
  app.get('/index.html', pageAnswer);
  app.get('/assets/:name', (c) => {
    const name = c.req.param('name');
    const file = assets.get(name);
    return file === undefined ? notFound(`no asset ${JSON.stringify(name.slice(0, 100))}`) : answer(file);
  });
}
