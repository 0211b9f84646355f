// An image's page in real Chromium against a real `winsmith server` (serveRepository, with two
// versions of a small Windows-like image pushed: one installed from an ISO by a build, one made from
// it by a recipe): its lineage graph from the ISO and the build to this image and its tags, its recipe, its files browsed
// into a folder and back by the breadcrumb, and the diff with the other version showing the file
// and registry value that changed. Each state of the page: no serious or critical axe-core
// violation, every control reached by Tab, no sideways scrolling on a laptop or a tablet, no script
// error; each is photographed into out/console/.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeBuildRecord } from '../../src/build/build-record.ts';
import { fuseAvailable } from '../../src/engines/nbd.ts';
import { withTempDir } from '../../src/io/output.ts';
import { consoleDirectory } from '../../src/server/console.ts';
import { withCliServer, type CliServer } from '../helpers/cli-server.ts';
import { failedBuild } from '../helpers/failed-build.ts';
import { pushImageVersion } from '../helpers/image-versions.ts';
import { LAPTOP, NO_BROWSER, checkPage, launchChromium, watchPage } from './browser.ts';

const PASSWORD = 'a long console password';
const SETUP = { user: 'setup', client: 'local' };
const NAME = 'windows/server-2022';
const ISO_SHA256 = 'a1'.repeat(32);
const RECIPE = { recipeSha256: 'b2'.repeat(32), recipe: 'steps:\n  - registry: HKLM\\SOFTWARE\\Contoso\n' };

/**
 * A build of the base image, as the server keeps it: its start refused to run (the recipe's ISO is
 * not the one its SHA-256 names), then the record a finished build leaves put in its place, with
 * the base image as its result.
 */
async function buildOf(s: CliServer, dataDir: string, digest: string): Promise<string> {
  const { id, recipe } = await failedBuild(s.app, dataDir, {
    output: `${NAME}:base`,
    isoSha256: ISO_SHA256,
  });
  const at = new Date().toISOString();
  const phase = { state: 'done' as const, startedAt: at, endedAt: at, boots: 1 };
  await writeBuildRecord(join(dataDir, 'builds', id, 'work'), {
    format: 1,
    id,
    createdAt: at,
    winsmithVersion: 'test',
    recipe: { file: 'ws2022.yaml', sha256: '0'.repeat(64), text: recipe },
    source: { kind: 'iso', path: 'windows.iso', sha256: ISO_SHA256 },
    edition: { index: 1, editionId: 'ServerStandard', build: 20348, name: 'Windows Server 2022 Standard' },
    accelerator: 'tcg',
    tokenSha256: '0'.repeat(64),
    reportPort: 0,
    qemuArgs: [],
    state: 'done',
    phases: { install: phase, provision: phase, generalize: phase },
    steps: [],
    error: null,
    result: { ref: `${NAME}:base`, digest, disk: null },
  });
  return id;
}

const skip =
  NO_BROWSER !== false
    ? NO_BROWSER
    : (await fuseAvailable())
      ? false
      : 'FUSE is not available here (/dev/fuse cannot be opened): the server cannot look inside images';

test(
  "an image's page: lineage graph, recipe, files and the diff with another version",
  { skip, timeout: 180_000 },
  async () => {
    assert.ok(
      existsSync(join(consoleDirectory(), 'index.html')),
      `the console is not built in ${consoleDirectory()}: run npm run build`,
    );
    await withTempDir(async (dir) => {
      await withCliServer(dir, async (s) => {
        const setup = s.app.as(SETUP);
        await setup.accounts.addUser({ name: 'reader', role: 'viewer', scopes: [], password: PASSWORD });
        const base = await pushImageVersion(
          setup.images,
          dir,
          1,
          { name: NAME, tag: 'base' },
          {
            sourceIsoSha256: ISO_SHA256,
          },
        );
        await pushImageVersion(
          setup.images,
          dir,
          2,
          { name: NAME, tag: 'custom' },
          {
            parentDigest: base.digest,
            recipe: RECIPE,
          },
        );
        await setup.images.tag({ name: NAME, tag: 'custom' }, { name: NAME, tag: 'latest' });
        const build = await buildOf(s, join(dir, 'data'), base.digest);

        const browser = await launchChromium();
        try {
          const page = await (await browser.newContext({ viewport: LAPTOP })).newPage();
          const problems = watchPage(page);
          await page.goto(s.server.url);
          await page.getByLabel('User').fill('reader');
          await page.getByLabel('Password').fill(PASSWORD);
          await page.getByRole('button', { name: 'Sign in' }).click();
          await page.getByRole('heading', { name: 'Images' }).waitFor();

          await page
            .getByRole('link', { name: `${NAME}:custom` })
            .first()
            .click();
          await page.getByRole('heading', { name: 'Lineage' }).waitFor();
          const graph = page.getByRole('list', { name: /^Lineage/ });
          const steps = graph.getByRole('listitem');
          await graph.getByRole('link', { name: `${NAME}:base` }).waitFor();
          assert.deepEqual(
            (await steps.allInnerTexts()).map((t) => t.split('\n')[0]),
            ['Windows ISO', 'Build', 'Installed from the ISO', 'This image: Customization', 'Made from it'],
          );
          assert.equal(
            await graph.getByRole('link', { name: 'ws2022.yaml' }).getAttribute('href'),
            `#/builds/${build}`,
          );
          const current = graph.locator('[aria-current="true"]');
          await current.getByRole('link', { name: `${NAME}:latest` }).waitFor();
          assert.match(await current.innerText(), /windows\/server-2022:custom/);
          assert.match(await steps.first().innerText(), new RegExp(ISO_SHA256.slice(0, 12)));
          assert.match(
            await page.getByLabel('The recipe').innerText(),
            /- registry: HKLM\\SOFTWARE\\Contoso/,
          );

          // The files: the root, then into Windows, and back by the breadcrumb.
          const files = page.getByRole('region', { name: 'Files' });
          await files.getByRole('button', { name: 'Windows', exact: true }).click();
          await files.getByRole('heading', { name: '/Windows' }).waitFor();
          const table = files.getByRole('table', { name: 'Files in /Windows' });
          await table.getByText('new.txt').waitFor();
          assert.match(await table.innerText(), /Fonts\/[\s\S]*System32\/[\s\S]*a\.txt\s+11 B/);
          assert.equal(new URL(page.url()).hash, `#/images/${encodeURIComponent(NAME)}/custom`);
          await checkPage(page, 'image-files', problems);
          await files
            .getByRole('navigation', { name: 'Folder' })
            .getByRole('button', { name: 'Root' })
            .click();
          await files.getByRole('table', { name: 'Files in /' }).waitFor();

          // The diff with the version it was made from.
          const compare = page.getByRole('region', { name: 'Compare' });
          await compare.getByLabel('Compare with').selectOption(`${NAME}:base`);
          await compare.getByRole('button', { name: 'Compare' }).click();
          const changes = page.getByRole('region', { name: `Changes from ${NAME}:custom to ${NAME}:base` });
          await changes.waitFor();
          assert.match(
            await changes.locator('.diff-counts').innerText(),
            /Files\s+4\s+Registry\s+1\s+Drivers\s+0/,
          );
          const changedFiles = changes.getByRole('table', { name: 'Files' });
          assert.match(await changedFiles.innerText(), /changed\s+\/Windows\/a\.txt\s+11 B\s+3 B/);
          assert.match(await changedFiles.innerText(), /added\s+\/Windows\/gone\.txt/);
          assert.match(
            await changes.getByRole('table', { name: 'Registry' }).innerText(),
            /changed\s+SOFTWARE\s+\\Contoso\\App\s+Version\s+REG_DWORD:2\s+REG_DWORD:1/,
          );
          await checkPage(page, 'image-diff', problems);

          // Along the lineage to the version it was made from: a page of its own, from its root.
          await graph.getByRole('link', { name: `${NAME}:base` }).click();
          await page.getByRole('heading', { name: `${NAME}:base`, level: 1 }).waitFor();
          await files.getByRole('table', { name: 'Files in /' }).waitFor();
          assert.equal(await page.getByRole('region', { name: /^Changes from/ }).count(), 0);
          await page
            .getByRole('list', { name: /^Lineage/ })
            .getByRole('link', { name: `${NAME}:custom` })
            .waitFor();
        } finally {
          await browser.close();
        }
      });
    });
  },
);
