// Looking inside stored images over a real server: GET …/files lists one folder of a pushed WIM
// (folders first, sizes and SHA-1s as wimlib has them, a page at a time), GET …/diff compares two
// pushed WIMs (a file changed, one added, one removed, a value of the SOFTWARE hive changed), both
// read by real wimlib through a real nbdfuse mount of the stored chunks. A caller who may not read
// one of the images is answered 404 without its name; a bad index or path is one 400; past the
// bounded queue of jobs the answer is 503 with Retry-After; and no mount or temporary folder is
// left behind.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { AccountStore } from '../../src/auth/account-store.ts';
import { issueToken } from '../../src/auth/tokens.ts';
import { INSPECT_JOBS, INSPECT_QUEUE } from '../../src/app/image-inspect.ts';
import { fuseAvailable } from '../../src/engines/nbd.ts';
import { withTempDir } from '../../src/io/output.ts';
import { ImageDiff, ImageDirectory } from '../../src/server/schemas.ts';
import { withCliServer, type CliServer } from '../helpers/cli-server.ts';
import { pushImageVersion } from '../helpers/image-versions.ts';

const SETUP = { user: 'setup', client: 'test' };
const IMAGE = 'lab/win';

const skip = (await fuseAvailable()) ? false : 'FUSE is not available here (/dev/fuse cannot be opened)';

async function push(s: CliServer, dir: string, version: 1 | 2, ref: { name: string; tag: string }) {
  await pushImageVersion(s.app.as(SETUP).images, dir, version, ref);
}

async function tokenOf(s: CliServer, name: string, scopes: string[]): Promise<string> {
  await s.app
    .as(SETUP)
    .accounts.addUser({ name, role: 'viewer', scopes, password: 'a long enough password' });
  return (await issueToken(new AccountStore(s.app.database), { userName: name, name: 'test' })).token;
}

async function get(s: CliServer, token: string, path: string) {
  const response = await fetch(`${s.server.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

function errorOf(json: Record<string, unknown>): { code: string; message: string } {
  return json.error as { code: string; message: string };
}

const enc = encodeURIComponent;
const filesOf = (name: string, tag: string, query: string) =>
  `/api/v1/images/${enc(name)}/tags/${tag}/files?${query}`;

test(
  'files and diff of stored WIMs, through a real server, wimlib and nbdfuse',
  { skip, timeout: 180_000 },
  async () => {
    await withTempDir(async (dir) => {
      // The server runs in this process: its temporary folders go where this test can look.
      const scratch = await mkdtemp(join(tmpdir(), 'inspect-test-'));
      const savedTmp = process.env.TMPDIR;
      process.env.TMPDIR = scratch;
      try {
        await withCliServer(dir, async (s) => {
          await push(s, dir, 1, { name: IMAGE, tag: 'v1' });
          await push(s, dir, 2, { name: IMAGE, tag: 'v2' });
          await push(s, dir, 1, { name: 'secret/win', tag: 'v1' });
          const admin = (await issueToken(new AccountStore(s.app.database), { userName: 'admin', name: 't' }))
            .token;
          const lab = await tokenOf(s, 'lab-viewer', ['lab/']);
          const outsider = await tokenOf(s, 'outsider', ['other/']);

          const root = await get(s, lab, filesOf(IMAGE, 'v1', ''));
          assert.equal(root.status, 200, JSON.stringify(root.json));
          const rootPage = ImageDirectory.parse(root.json);
          assert.deepEqual(
            rootPage.entries.map((e) => [e.name, e.isDir]),
            [
              ['Program Files', true],
              ['Windows', true],
            ],
          );
          assert.equal(rootPage.path, '/');

          const windows = ImageDirectory.parse(
            (await get(s, lab, filesOf(IMAGE, 'v1', 'path=%5CWindows%5C'))).json,
          );
          assert.equal(windows.path, '/Windows');
          assert.deepEqual(
            windows.entries.map((e) => e.name),
            ['Fonts', 'System32', 'a.txt', 'gone.txt'],
          );
          const a = windows.entries.find((e) => e.name === 'a.txt');
          assert.deepEqual(a, {
            name: 'a.txt',
            isDir: false,
            size: 3,
            sha1: createHash('sha1').update('one').digest('hex'),
          });

          const first = ImageDirectory.parse(
            (await get(s, lab, filesOf(IMAGE, 'v1', 'path=/Windows/Fonts&limit=2'))).json,
          );
          assert.deepEqual(
            [first.entries.map((e) => e.name), first.total, first.next],
            [['a.ttf', 'b.ttf'], 3, 2],
          );
          const rest = ImageDirectory.parse(
            (await get(s, lab, filesOf(IMAGE, 'v1', 'path=/Windows/Fonts&limit=2&offset=2'))).json,
          );
          assert.deepEqual([rest.entries.map((e) => e.name), rest.next], [['c.ttf'], null]);

          const diff = await get(
            s,
            lab,
            `/api/v1/images/${enc(IMAGE)}/tags/v1/diff?to=${enc(`${IMAGE}:v2`)}`,
          );
          assert.equal(diff.status, 200, JSON.stringify(diff.json));
          const d = ImageDiff.parse(diff.json);
          assert.deepEqual(
            d.files.map((f) => `${f.change} ${f.path}`),
            [
              'changed /Windows/a.txt',
              'removed /Windows/gone.txt',
              'added /Windows/new.txt',
              'changed /Windows/System32/config/SOFTWARE',
            ],
          );
          assert.deepEqual(
            d.registry.map((r) => [r.hive, r.change, r.key, r.value, r.a, r.b]),
            [['SOFTWARE', 'changed', '\\Contoso\\App', 'Version', 'REG_DWORD:1', 'REG_DWORD:2']],
          );
          assert.deepEqual(d.counts, { files: 4, registry: 1, drivers: 0, unattend: 0 });
          assert.deepEqual([d.a.tag, d.b.tag, d.a.index, d.b.index, d.truncated], ['v1', 'v2', 1, 1, false]);
          // Asked again, it is the answer kept by digest.
          assert.deepEqual(
            (await get(s, admin, `/api/v1/images/${enc(IMAGE)}/tags/v1/diff?to=${enc(`${IMAGE}:v2`)}`)).json,
            diff.json,
          );

          for (const [token, path] of [
            [outsider, filesOf(IMAGE, 'v1', '')],
            [outsider, `/api/v1/images/${enc(IMAGE)}/tags/v1/diff?to=${enc(`${IMAGE}:v2`)}`],
            [lab, `/api/v1/images/${enc(IMAGE)}/tags/v1/diff?to=${enc('secret/win:v1')}`],
          ] as const) {
            const refused = await get(s, token, path);
            assert.equal(refused.status, 404, path);
            assert.doesNotMatch(errorOf(refused.json).message, /secret|lab\//, path);
          }

          for (const [query, status, message] of [
            ['index=2', 400, /index 2 is not an edition of lab\/win:v1, which has 1 to 1/],
            ['index=0', 400, /index 0 is not an edition of lab\/win:v1, which has 1 to 1/],
            ['index=x', 400, /index: expected a whole number/],
            ['path=/Windows/../x', 400, /path must be absolute in the image/],
            ['path=Windows', 400, /path must be absolute in the image/],
            ['path=/Windows/a.txt', 400, /\/Windows\/a.txt in lab\/win:v1 is a file, not a folder/],
            ['limit=1001', 400, /limit must be 1 to 1000/],
            ['path=/Nowhere', 404, /lab\/win:v1 index 1 has no \/Nowhere/],
          ] as const) {
            const bad = await get(s, lab, filesOf(IMAGE, 'v1', query));
            assert.equal(bad.status, status, query);
            assert.match(errorOf(bad.json).message, message, query);
          }
          const badTo = await get(s, lab, `/api/v1/images/${enc(IMAGE)}/tags/v1/diff?to=nocolon`);
          assert.equal(badTo.status, 400);
          assert.match(errorOf(badTo.json).message, /has no tag: expected NAME:TAG/);

          // Many jobs at once (folders not kept: each one is looked for): a few run, a few wait,
          // the others are told when to come back.
          const answers = await Promise.all(
            Array.from({ length: 40 }, (_, i) =>
              fetch(`${s.server.url}${filesOf(IMAGE, 'v2', `path=/Missing${i}`)}`, {
                headers: { authorization: `Bearer ${lab}` },
              }).then(async (r) => ({
                status: r.status,
                retryAfter: r.headers.get('retry-after'),
                code: errorOf((await r.json()) as Record<string, unknown>).code,
              })),
            ),
          );
          const busy = answers.filter((a) => a.status === 503);
          assert.ok(busy.length > 0, 'no request was refused: the queue is not bounded');
          assert.ok(answers.filter((a) => a.status === 404).length >= INSPECT_JOBS + INSPECT_QUEUE);
          assert.deepEqual(new Set(answers.map((a) => a.status)), new Set([404, 503]));
          assert.deepEqual(
            new Set(busy.map((a) => `${a.code} ${a.retryAfter ?? ''}`)),
            new Set(['UNAVAILABLE 5']),
          );
        });
        const mounts = await readFile('/proc/mounts', 'utf8');
        assert.doesNotMatch(mounts, new RegExp(scratch), 'a mount is left behind');
        assert.deepEqual(await readdir(scratch), [], 'a temporary folder is left behind');
      } finally {
        if (savedTmp === undefined) delete process.env.TMPDIR;
        else process.env.TMPDIR = savedTmp;
        await rm(scratch, { recursive: true, force: true });
      }
    });
  },
);
