// The web console's files as `winsmith server` serves them (src/server/console.ts), on a bundle
// written here: the page at / and its assets under /assets/ with the Content-Security-Policy, a
// missing bundle or asset and names that try to leave the folder answered 404, and every other
// request (the API, other methods) passed to the API handler untouched.

import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { withTempDir } from '../../src/io/output.ts';
import { CONSOLE_CSP, withConsole, type FetchHandler } from '../../src/server/console.ts';

const PAGE =
  '<!doctype html><title>winsmith</title><script type="module" src="/assets/index-Ab1.js"></script>';
const SCRIPT = 'console.log("console");';

/** The API as a handler that says which request reached it. */
const api: FetchHandler = (request) =>
  new Response(`api ${request.method} ${new URL(request.url).pathname}`, { status: 299 });

function get(handler: FetchHandler, path: string, method = 'GET'): Promise<Response> {
  return Promise.resolve(handler(new Request(`http://127.0.0.1${path}`, { method })));
}

test('the page and its assets are served with a strict policy; the rest goes to the API', async () => {
  await withTempDir(async (dir) => {
    await mkdir(join(dir, 'assets'));
    await writeFile(join(dir, 'index.html'), PAGE);
    await writeFile(join(dir, 'assets', 'index-Ab1.js'), SCRIPT);
    await writeFile(join(dir, 'secret.txt'), 'not an asset');
    const handler = withConsole(api, dir);

    const page = await get(handler, '/');
    assert.equal(page.status, 200);
    assert.equal(await page.text(), PAGE);
    assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(page.headers.get('content-security-policy'), CONSOLE_CSP);
    assert.match(CONSOLE_CSP, /script-src 'self'/);
    assert.doesNotMatch(CONSOLE_CSP, /unsafe/);
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(page.headers.get('cache-control'), 'no-cache');

    const script = await get(handler, '/assets/index-Ab1.js');
    assert.equal(script.status, 200);
    assert.equal(await script.text(), SCRIPT);
    assert.equal(script.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.match(script.headers.get('cache-control') ?? '', /immutable/);

    const head = await get(handler, '/assets/index-Ab1.js', 'HEAD');
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
      const answer = await get(handler, path);
      const body = await answer.text();
      assert.ok(answer.status === 404 || body === 'api GET /secret.txt', `${path}: ${answer.status} ${body}`);
      assert.doesNotMatch(body, /not an asset/, path);
    }

    assert.equal(await (await get(handler, '/api/health')).text(), 'api GET /api/health');
    assert.equal(await (await get(handler, '/', 'POST')).text(), 'api POST /');
    assert.equal(await (await get(handler, '/boot/ipxe')).text(), 'api GET /boot/ipxe');
  });
});

test('a server without the built console says how to build it', async () => {
  await withTempDir(async (dir) => {
    const answer = await get(withConsole(api, join(dir, 'none')), '/');
    assert.equal(answer.status, 404);
    assert.match(await answer.text(), /npm run build/);
  });
});
