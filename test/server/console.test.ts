// The web console's files as `winsmith server` serves them (src/server/console.ts), on a bundle
// written here: the page at / and its assets under /assets/ with the Content-Security-Policy, a
// missing bundle or asset and names that try to leave the folder answered 404, and every other
// request (the API, other methods) left to the API's routes. The bundle is read once, when the
// console is added, and a file past the size limit is refused then.

import assert from 'node:assert/strict';
import { mkdir, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { Hono } from 'hono';
import { withTempDir } from '../../src/io/output.ts';
import { AppError } from '../../src/core/errors.ts';
import { CONSOLE_CSP, MAX_CONSOLE_FILE_BYTES, serveConsole } from '../../src/server/console.ts';

const PAGE =
  '<!doctype html><title>winsmith</title><script type="module" src="/assets/index-Ab1.js"></script>';
const SCRIPT = 'console.log("console");';

/** An API whose every answer says which request reached it, with the console of `dir` added. */
function withConsole(dir: string): Hono {
  const app = new Hono();
  app.post('/', (c) => c.text('api POST /'));
  app.get('/api/health', (c) => c.text('api GET /api/health'));
  app.notFound((c) => c.text(`api ${c.req.method} ${c.req.path}`, 404));
  serveConsole(app, dir);
  return app;
}

function get(app: Hono, path: string, method = 'GET'): Promise<Response> {
  return Promise.resolve(app.request(`http://127.0.0.1${path}`, { method }));
}

test('the page and its assets are served with a strict policy; the rest goes to the API', async () => {
  await withTempDir(async (dir) => {
    await mkdir(join(dir, 'assets'));
    await writeFile(join(dir, 'index.html'), PAGE);
    await writeFile(join(dir, 'assets', 'index-Ab1.js'), SCRIPT);
    await writeFile(join(dir, 'secret.txt'), 'not an asset');
    const app = withConsole(dir);

    const page = await get(app, '/');
    assert.equal(page.status, 200);
    assert.equal(await page.text(), PAGE);
    assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(page.headers.get('content-security-policy'), CONSOLE_CSP);
    assert.match(CONSOLE_CSP, /script-src 'self'/);
    assert.doesNotMatch(CONSOLE_CSP, /unsafe/);
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(page.headers.get('cache-control'), 'no-cache');

    const script = await get(app, '/assets/index-Ab1.js');
    assert.equal(script.status, 200);
    assert.equal(await script.text(), SCRIPT);
    assert.equal(script.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.match(script.headers.get('cache-control') ?? '', /immutable/);

    const head = await get(app, '/assets/index-Ab1.js', 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(SCRIPT.length));
    assert.equal(await head.text(), '');

    for (const path of [
      '/assets/missing-1.js',
      '/assets/../secret.txt',
      '/assets/%2e%2e%2fsecret.txt',
      '/assets/..%2fsecret.txt',
      '/assets/.hidden.js',
      '/assets/index-Ab1.exe',
    ]) {
      // The URL parser resolves a plain '..' first: that request is the API's.
      const answer = await get(app, path);
      const body = await answer.text();
      assert.equal(answer.status, 404, `${path}: ${body}`);
      assert.doesNotMatch(body, /not an asset/, path);
    }

    assert.equal(await (await get(app, '/api/health')).text(), 'api GET /api/health');
    assert.equal(await (await get(app, '/', 'POST')).text(), 'api POST /');
    assert.equal(await (await get(app, '/secret.txt')).text(), 'api GET /secret.txt');
  });
});

test('a server without the built console says how to build it', async () => {
  await withTempDir(async (dir) => {
    const answer = await get(withConsole(join(dir, 'none')), '/');
    assert.equal(answer.status, 404);
    assert.match(await answer.text(), /npm run build/);
  });
});

test('the bundle is read once: requests do not read the disk', async () => {
  await withTempDir(async (dir) => {
    await mkdir(join(dir, 'assets'));
    await writeFile(join(dir, 'index.html'), PAGE);
    await writeFile(join(dir, 'assets', 'index-Ab1.js'), SCRIPT);
    const app = withConsole(dir);
    await rm(join(dir, 'index.html'));
    await rm(join(dir, 'assets', 'index-Ab1.js'));
    await writeFile(join(dir, 'assets', 'late-Cd2.js'), SCRIPT);

    assert.equal(await (await get(app, '/')).text(), PAGE);
    assert.equal(await (await get(app, '/assets/index-Ab1.js')).text(), SCRIPT);
    assert.equal((await get(app, '/assets/late-Cd2.js')).status, 404);
  });
});

test('a file of the bundle past the size limit is refused when the console is added', async () => {
  await withTempDir(async (dir) => {
    await mkdir(join(dir, 'assets'));
    await writeFile(join(dir, 'index.html'), PAGE);
    await writeFile(join(dir, 'assets', 'index-Ab1.js'), '');
    await truncate(join(dir, 'assets', 'index-Ab1.js'), MAX_CONSOLE_FILE_BYTES + 1);
    assert.throws(
      () => withConsole(dir),
      (e: unknown) =>
        e instanceof AppError &&
        e.code === 'LIMIT_EXCEEDED' &&
        /index-Ab1\.js is 8388609 bytes/.test(e.message),
    );
  });
});
