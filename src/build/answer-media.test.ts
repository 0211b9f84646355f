import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { sevenZipExtract, sevenZipList } from '../engines/sevenzip.ts';
import { decodeUnattendPassword, findComponents, parseUnattend } from '../formats/unattend/index.ts';
import { withTempDir } from '../io/output.ts';
import type { AnswerSettings } from './autounattend.ts';
import { loadBuildRecipe } from './build-recipe.ts';
import { writeAnswerMedia } from './answer-media.ts';
import { answerMediaFiles, type ProvisionPlan } from './provision-plan.ts';
import { PROVISION_SCRIPT } from './provision-script.ts';

const SHA = 'cd'.repeat(32);
const ANSWER: AnswerSettings = {
  firmware: 'uefi',
  edition: { index: 2, editionId: 'ServerStandard', build: 26100 },
  productKey: 'kms',
  locale: 'en-US',
  timeZone: 'UTC',
  adminPassword: 'only-for-this-build',
};

const missing = ['xorriso', '7zz'].find((p) => spawnSync(p, ['-version']).error !== undefined);

describe('answer media', { skip: missing === undefined ? false : `${missing} is not installed` }, () => {
  test('the ISO holds the answer file, the script and a plan naming only media paths', async () => {
    await withTempDir(async (dir) => {
      await mkdir(join(dir, 'tools'));
      await writeFile(join(dir, 'server.iso'), 'not really an ISO');
      await writeFile(join(dir, 'tools', 'agent=1.msi'), 'an installer');
      await writeFile(join(dir, 'kb1.msu'), 'an update');
      await writeFile(join(dir, 'setup.ps1'), "Write-Output 'set up'\n");
      await writeFile(
        join(dir, 'build.yaml'),
        [
          `source: { iso: ./server.iso, sha256: ${SHA}, edition: ServerStandard }`,
          'provision:',
          '  - powershell: { file: ./setup.ps1 }',
          "  - files: [{ src: ./tools/agent=1.msi, dest: 'C:\\Tools' }]",
          '  - packages: [./kb1.msu]',
          '  - windowsUpdate: true',
          'generalize: { vmMode: true }',
          'output: { tag: lab/ws2025:v1 }',
          '',
        ].join('\n'),
      );
      const recipe = await loadBuildRecipe(join(dir, 'build.yaml'));
      const identity = {
        build: 'b1',
        reportUrl: 'http://10.0.2.2:8080/api/v1/builds/b1/report',
        token: 'tok',
      };
      const { plan, files } = answerMediaFiles(recipe, ANSWER, identity, null);
      assert.deepEqual(
        plan.steps.map((s) => s.kind),
        ['powershell', 'files', 'packages', 'windowsUpdate'],
      );
      const iso = join(dir, 'answer.iso');
      await writeAnswerMedia(iso, files);

      const listed = (await sevenZipList(iso, 'iso')).map((e) => e.path.replaceAll('\\', '/')).sort();
      for (const want of [
        'autounattend.xml',
        'winsmith/plan.json',
        'winsmith/provision.ps1',
        'winsmith/steps/1.ps1',
        'winsmith/files/2/agent=1.msi',
        'winsmith/files/3/kb1.msu',
      ])
        assert.ok(listed.includes(want), `${want} in ${listed.join(', ')}`);

      const out = join(dir, 'out');
      await sevenZipExtract(iso, out, { type: 'iso' });
      const onMedia = JSON.parse(await readFile(join(out, 'winsmith', 'plan.json'), 'utf8')) as ProvisionPlan;
      assert.deepEqual(onMedia, plan);
      assert.ok(!JSON.stringify(onMedia).includes(dir), 'no host path on the media');
      assert.equal(
        await readFile(join(out, 'winsmith', 'files', '2', 'agent=1.msi'), 'utf8'),
        'an installer',
      );
      assert.equal(
        await readFile(join(out, 'winsmith', 'steps', '1.ps1'), 'utf8'),
        "Write-Output 'set up'\r\n",
      );
      assert.equal(
        await readFile(join(out, 'winsmith', 'provision.ps1'), 'utf8'),
        PROVISION_SCRIPT.replace(/\r?\n/g, '\r\n'),
      );
      const u = parseUnattend(await readFile(join(out, 'autounattend.xml')));
      assert.equal(findComponents(u, 'windowsPE', 'Microsoft-Windows-Setup').length, 1);
      const xml = await readFile(join(out, 'autounattend.xml'), 'utf8');
      assert.ok(!xml.includes('only-for-this-build'), 'the password is encoded, not in clear');
      const encoded = /<AdministratorPassword>\s*<Value>([^<]+)<\/Value>/.exec(xml)?.[1] ?? '';
      assert.equal(decodeUnattendPassword(encoded, 'AdministratorPassword'), 'only-for-this-build');
      assert.deepEqual((await readdir(dir)).sort(), [
        'answer.iso',
        'build.yaml',
        'kb1.msu',
        'out',
        'server.iso',
        'setup.ps1',
        'tools',
      ]);
    });
  });

  test('an existing ISO is refused unless replacing is asked for, and nothing is left behind', async () => {
    await withTempDir(async (dir) => {
      const iso = join(dir, 'answer.iso');
      await writeFile(iso, 'old');
      const files = [{ path: 'autounattend.xml', text: '<unattend/>' }];
      await assert.rejects(writeAnswerMedia(iso, files), /answer\.iso already exists/);
      await writeAnswerMedia(iso, files, { overwrite: true });
      assert.notEqual(await readFile(iso, 'utf8'), 'old');
      assert.deepEqual(await readdir(dir), ['answer.iso']);
    });
  });
});
