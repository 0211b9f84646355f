// The web console end to end: a real `winsmith server` on 127.0.0.1 (serveRepository, with two
// images pushed, one made from the other, a profile, a machine that registered itself by booting
// and operator and viewer accounts) and real Chromium. An operator signs in with the keyboard,
// sees the images and one's lineage, approves the pending machine, assigns a profile and starts a
// deployment after a confirmation that names the machine, and watches its progress bar move as a
// scripted agent client reports to the server (the bar moves on the server's events: the
// deployment is never read again). A viewer sees no approve, deploy, cancel or retry button, and
// the API refuses them the deployment anyway. Every page: no serious or critical axe-core
// violation, every control reached by Tab, no sideways scrolling on a laptop or a tablet, no
// script error; each is photographed into out/console/.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { artifactMetaOf } from '../../src/app/artifact-meta.ts';
import { writeBuildRecord, type BuildRecord, type StepRecord } from '../../src/build/build-record.ts';
import { pushFile } from '../../src/app/transfer.ts';
import { AGENT_PATHS } from '../../src/deploy/agent-protocol.ts';
import { wimCapture } from '../../src/engines/wimlib.ts';
import { withTempDir } from '../../src/io/output.ts';
import { consoleDirectory } from '../../src/server/console.ts';
import { failedBuild } from '../helpers/failed-build.ts';
import { IMAGE_REF, startDeployServer, type DeployServer } from '../helpers/deploy-server.ts';
import {
  checkPage,
  type InPage,
  LAPTOP,
  launchChromium,
  NO_BROWSER,
  recordUrls,
  screenshot,
  seriousViolations,
  watchPage,
} from './browser.ts';

const PASSWORD = 'a long console password';
const PENDING = { mac: '52:54:00:c0:00:01', uuid: '4c4c4544-0042-3510-8052-b4c04f4e3232' } as const;
const SECOND_PENDING = '52:54:00:c0:00:02';
/** A machine that registers while the machines' page is open. */
const LATE_PENDING = '52:54:00:c0:00:04';
/** What iPXE tells of a machine that tells nothing. */
const NO_INVENTORY = { serial: null, manufacturer: null, product: null, buildarch: null, platform: null };
const RACK = { name: 'rack-3', mac: '52:54:00:c0:00:03' } as const;
/** A PNG of one grey pixel: the screenshot a build VM left. */
const PIXEL_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=',
  'base64',
);
const CUSTOM_REF = { name: IMAGE_REF.name, tag: 'custom' } as const;

/** A WIM of one small tree, different for each `text`. */
async function smallWim(dir: string, text: string): Promise<string> {
  const tree = join(dir, `tree-${text}`);
  await mkdir(join(tree, 'Windows', 'System32'), { recursive: true });
  await writeFile(join(tree, 'Windows', 'System32', 'build.txt'), `${text}\n`);
  const wim = join(dir, `${text}.wim`);
  await wimCapture(tree, wim, { name: 'Windows Server 2022 SERVERSTANDARD', compression: 'none' });
  return wim;
}

/** The record a build's VM leaves when its second provisioning step fails. */
function buildRecord(id: string): BuildRecord {
  const at = new Date().toISOString();
  const step = (index: number, kind: 'powershell' | 'features', state: 'done' | 'failed'): StepRecord => ({
    index,
    kind,
    where: `recipe.yaml:${6 + index}`,
    state,
    startedAt: at,
    endedAt: at,
    rounds: 0,
    outputSha256: null,
    output: null,
  });
  const phase = (state: 'done' | 'failed' | 'pending') => ({
    state,
    startedAt: state === 'pending' ? null : at,
    endedAt: state === 'pending' ? null : at,
    boots: state === 'pending' ? 0 : 1,
  });
  return {
    format: 1,
    id,
    createdAt: at,
    winsmithVersion: 'test',
    recipe: { file: 'ws2022.yaml', sha256: '0'.repeat(64), text: '' },
    source: { kind: 'iso', path: 'windows.iso', sha256: '0'.repeat(64) },
    edition: { index: 1, editionId: 'ServerStandard', build: 20348, name: 'Windows Server 2022 Standard' },
    accelerator: 'tcg',
    tokenSha256: '0'.repeat(64),
    reportPort: 0,
    qemuArgs: [],
    state: 'failed',
    phases: { install: phase('done'), provision: phase('failed'), generalize: phase('pending') },
    steps: [step(0, 'powershell', 'done'), step(1, 'features', 'failed')],
    error: 'step 2 (features) failed',
    result: null,
  };
}

/**
 * A build that failed: its recipe's ISO is not the one its SHA-256 names. Its VM's screenshot and
 * a record of phases and steps are put where a running VM leaves them.
 */
async function failedBuildWithScreen(server: DeployServer): Promise<string> {
  const { id } = await failedBuild(server.app, server.dataDir, {
    output: 'windows/server-2022:built',
    user: 'builder',
  });
  const work = join(server.dataDir, 'builds', id, 'work');
  await mkdir(work, { recursive: true });
  await writeFile(join(work, 'screenshot.png'), PIXEL_PNG);
  await writeBuildRecord(work, buildRecord(id));
  return id;
}

/**
 * The server with what the console shows: images with lineage, a failed build, a profile, pending
 * machines, a ready one with a deployment queued, users.
 */
async function seededServer(dir: string): Promise<{ server: DeployServer; build: string }> {
  const server = await startDeployServer(join(dir, 'data'), await smallWim(dir, 'sample'));
  try {
    const setup = server.app.as({ user: 'setup', client: 'test' });
    for (const [name, role] of [
      ['ops', 'operator'],
      ['watcher', 'viewer'],
    ] as const) {
      await setup.accounts.addUser({ name, role, scopes: [], password: PASSWORD });
    }
    const custom = await smallWim(dir, 'custom');
    await pushFile(server.session.images, custom, CUSTOM_REF, {
      ...(await artifactMetaOf(custom, { parentDigest: server.image.digest })),
      recipe: {
        from: `${IMAGE_REF.name}:${IMAGE_REF.tag}`,
        steps: [{ registry: 'HKLM\\SOFTWARE\\Contoso' }],
      },
    });
    await server.applyProfile({ name: 'lab', firmware: 'uefi' });
    await server.addMachine(RACK.name, RACK.mac);
    await server.session.deployments.create({ machine: RACK.name, profile: 'lab' });
    const registry = server.app.bootPorts().registry;
    const inventory = {
      serial: 'SN-0001',
      manufacturer: 'QEMU',
      product: 'Standard PC',
      buildarch: 'x86_64',
    };
    await registry.registerMachine(
      { mac: PENDING.mac, uuid: PENDING.uuid, inventory: { ...inventory, platform: 'efi' } },
      new Date(),
    );
    await registry.registerMachine(
      { mac: SECOND_PENDING, uuid: null, inventory: { ...inventory, serial: 'SN-0002', platform: 'efi' } },
      new Date(),
    );
    return { server, build: await failedBuildWithScreen(server) };
  } catch (e) {
    await server.close();
    throw e;
  }
}

/** Signs in with the keyboard only: Tab to each field, type, Enter. */
async function signIn(page: Page, url: string, user: string): Promise<void> {
  await page.goto(url);
  await page.getByRole('heading', { name: 'winsmith console' }).waitFor();
  await page.keyboard.press('Tab');
  await page.keyboard.type(user);
  await page.keyboard.press('Tab');
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Images' }).waitFor();
  // The event stream is open: what the views show from here on follows the server's events.
  await page
    .getByRole('status')
    .filter({ hasText: /^Live$/ })
    .waitFor();
}

async function agentReport(server: DeployServer, token: string, report: object): Promise<void> {
  const answer = await fetch(`${server.url}${AGENT_PATHS.report}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(report),
  });
  assert.ok(answer.ok, `agent report refused: ${answer.status} ${await answer.text()}`);
}

/** The value of the page's progress bar once it is `value`; rejects with the last one seen. */
async function progressReaches(page: Page, value: number): Promise<void> {
  await page
    .waitForFunction(
      (v) => (globalThis as unknown as InPage).document.querySelector('progress')?.value === v,
      value,
      { timeout: 10_000 },
    )
    .catch(async () => {
      const last = await page.evaluate(
        () => (globalThis as unknown as InPage).document.querySelector('progress')?.value ?? null,
      );
      throw new Error(`the progress bar did not reach ${value}: it shows ${String(last)}`);
    });
}

async function withBrowser(fn: (browser: Browser) => Promise<void>): Promise<void> {
  const browser = await launchChromium();
  try {
    await fn(browser);
  } finally {
    await browser.close();
  }
}

test(
  'the console: sign in, images, approve, deploy and watch it live, a viewer refused',
  { skip: NO_BROWSER },
  async () => {
    assert.ok(
      existsSync(join(consoleDirectory(), 'index.html')),
      `the console is not built in ${consoleDirectory()}: run npm run build`,
    );
    await withTempDir(async (dir) => {
      const { server, build } = await seededServer(dir);
      try {
        await withBrowser(async (browser) => {
          const context = await browser.newContext({ viewport: LAPTOP });
          const page = await context.newPage();
          const problems = watchPage(page);
          const urls = recordUrls(page);

          // Sign-in: a wrong password is refused with the server's words.
          await page.goto(server.url);
          await page.getByLabel('User').fill('ops');
          await page.getByLabel('Password').fill('not the password');
          await page.getByRole('button', { name: 'Sign in' }).click();
          await page.getByRole('alert').waitFor();
          assert.match(await page.getByRole('alert').innerText(), /UNAUTHORIZED/);
          await checkPage(page, 'login', problems);

          await signIn(page, server.url, 'ops');
          const stored = await page.evaluate(
            () => (globalThis as unknown as InPage).sessionStorage.getItem('winsmith.session') ?? '',
          );
          assert.match(stored, /"token":"[^"]{16,}"/);
          const images = page.getByRole('table');
          await images.getByRole('link', { name: `${IMAGE_REF.name}:${IMAGE_REF.tag}` }).waitFor();
          await images.getByRole('link', { name: `${CUSTOM_REF.name}:${CUSTOM_REF.tag}` }).waitFor();
          assert.match(await images.innerText(), /Windows Server 2022 SERVERSTANDARD/);
          assert.match(await images.innerText(), /operator/);
          await checkPage(page, 'images', problems);

          // An image's page: its editions and its lineage back to the image it was made from.
          await images.getByRole('link', { name: `${CUSTOM_REF.name}:${CUSTOM_REF.tag}` }).click();
          await page.getByRole('heading', { name: 'Lineage' }).waitFor();
          const lineage = page.locator('.lineage');
          await lineage.getByRole('link', { name: `${IMAGE_REF.name}:${IMAGE_REF.tag}` }).waitFor();
          assert.match(await page.locator('.code-block').innerText(), /HKLM\\\\SOFTWARE\\\\Contoso/);
          await checkPage(page, 'image', problems);

          // Builds: the failed one among the past, its page with its error, log and screenshot.
          await page.getByRole('link', { name: 'Builds' }).click();
          const past = page.getByRole('table', { name: 'Past builds' });
          await past.getByRole('link', { name: build }).waitFor();
          assert.match(
            await past.innerText(),
            /failed\s+windows\/server-2022:built\s+ws2022\.yaml\s+builder/,
          );
          await checkPage(page, 'builds', problems);
          await past.getByRole('link', { name: build }).click();
          await page.getByRole('heading', { name: `Build ${build}` }).waitFor();
          await page.getByRole('img', { name: /The screen of build/ }).waitFor();
          await page.getByRole('region', { name: 'Log' }).locator('pre').waitFor();
          assert.match(await page.locator('.facts').innerText(), /Error\s+.*sha-?256/i);
          assert.equal(await page.getByRole('button', { name: /Resume|Cancel/ }).count(), 0);
          assert.match(
            await page.locator('.phases').innerText(),
            /Install\s+done[\s\S]*Provision\s+failed[\s\S]*Generalize\s+pending/,
          );
          const steps = page.getByRole('table', { name: 'Provisioning steps' });
          assert.match(await steps.innerText(), /1\s+powershell\s+recipe\.yaml:6\s+done/);
          assert.match(await steps.innerText(), /2\s+features\s+recipe\.yaml:7\s+failed/);
          await checkPage(page, 'build', problems);

          await page.getByRole('link', { name: 'Repository' }).click();
          await page.getByRole('img', { name: /Logical .* against stored/ }).waitFor();
          assert.match(await page.locator('.facts').innerText(), /Deduplication\s+\d+\.\d\d : 1/);
          await checkPage(page, 'repository', problems);

          // Profiles, read only: the one the machines are deployed with, and its YAML.
          await page.getByRole('link', { name: 'Profiles' }).click();
          await page.getByRole('table').getByRole('link', { name: 'lab' }).waitFor();
          assert.match(
            await page.getByRole('table').innerText(),
            /lab\s+windows\/server-2022:sample\s+1\s+uefi/,
          );
          await checkPage(page, 'profiles', problems);
          await page.getByRole('table').getByRole('link', { name: 'lab' }).click();
          const yaml = page.getByLabel('The YAML of profile lab');
          await yaml.waitFor();
          assert.match(await yaml.innerText(), /image: windows\/server-2022:sample/);
          await checkPage(page, 'profile', problems);

          // Machines: approve the one that registered by booting, then deploy it.
          await page.getByRole('link', { name: 'Machines' }).click();
          await page.getByRole('heading', { name: 'Waiting for approval' }).waitFor();
          await page.getByRole('button', { name: `Approve ${PENDING.mac}` }).waitFor();
          await checkPage(page, 'machines', problems);
          // A machine that network-boots now appears as it registers: its event, no reload.
          const machineReads = (): number => server.requests('/api/v1/machines').length;
          const readsBeforeBoot = machineReads();
          await server.app
            .bootPorts()
            .registry.registerMachine(
              { mac: LATE_PENDING, uuid: null, inventory: { ...NO_INVENTORY, platform: 'pcbios' } },
              new Date(),
            );
          await page.getByRole('button', { name: `Approve ${LATE_PENDING}` }).waitFor();
          assert.equal(machineReads(), readsBeforeBoot, 'the page read no machine list again');
          await page.getByRole('button', { name: `Approve ${PENDING.mac}` }).click();
          await page.getByLabel(`Profile for ${PENDING.mac}`).waitFor();
          assert.equal((await server.session.machines.get(PENDING.mac)).state, 'ready');
          await page.getByLabel(`Profile for ${PENDING.mac}`).selectOption('lab');
          await page.getByRole('button', { name: `Deploy to ${PENDING.mac}` }).click();
          const dialog = page.getByRole('dialog', { name: `Deploy to ${PENDING.mac}?` });
          await dialog.waitFor();
          const question = await dialog.innerText();
          assert.match(question, new RegExp(`Machine ${PENDING.mac}`));
          assert.match(question, /Its disk will be erased/);
          assert.equal(
            await server.session.deployments.list({ machine: PENDING.mac }).then((l) => l.length),
            0,
          );
          assert.deepEqual(await seriousViolations(page), [], 'the confirmation: axe-core');
          await screenshot(page, 'deploy-confirmation');
          // The safe answer has the focus; Escape leaves everything as it was.
          assert.equal(
            await page.evaluate(
              () => (globalThis as unknown as InPage).document.activeElement?.textContent ?? null,
            ),
            'Cancel',
          );
          await page.keyboard.press('Escape');
          await dialog.waitFor({ state: 'hidden' });
          assert.equal(
            await server.session.deployments.list({ machine: PENDING.mac }).then((l) => l.length),
            0,
          );
          await page.getByRole('button', { name: `Deploy to ${PENDING.mac}` }).click();
          await dialog.getByRole('button', { name: `Erase and deploy ${PENDING.mac}` }).click();

          await page.getByRole('heading', { name: /^Deployment / }).waitFor();
          const id = decodeURIComponent(new URL(page.url()).hash.split('/')[2] ?? '');
          const made = await server.session.deployments.show(id);
          assert.equal(made.machine.mac, PENDING.mac);
          assert.equal(made.createdBy, 'ops');
          await progressReaches(page, 0);
          await checkPage(page, 'deployment-queued', problems);

          // The machine boots, its agent reports: the bar follows the server's events.
          const reads = (): number =>
            server.requests(`/api/v1/deployments/${id}`).filter((r) => r.path === `/api/v1/deployments/${id}`)
              .length;
          const readsBefore = reads();
          const started = await server.app.bootPorts().registry.startDeployment(PENDING.mac);
          assert.ok(started !== null && started.deployment === id);
          await agentReport(server, started.token, {
            state: 'agent-online',
            log: ['agent started on the machine'],
          });
          await agentReport(server, started.token, { state: 'partitioning' });
          await agentReport(server, started.token, { state: 'applying', progress: { done: 25, total: 100 } });
          await progressReaches(page, 25);
          await page.getByText('agent started on the machine').waitFor();
          await screenshot(page, 'deployment-applying');
          await agentReport(server, started.token, {
            progress: { done: 70, total: 100 },
            log: ['70 % applied'],
          });
          await progressReaches(page, 70);
          await page.getByText('70 % applied').waitFor();
          for (const state of ['configuring', 'finalizing', 'done'])
            await agentReport(server, started.token, { state });
          await progressReaches(page, 100);
          await page.locator('.status-line .badge', { hasText: 'done' }).waitFor();
          assert.equal(reads(), readsBefore, 'the deployment was read again instead of following its events');
          await checkPage(page, 'deployment-done', problems);

          await page.getByRole('link', { name: 'Deployments', exact: true }).click();
          const row = page.locator(`tr[data-deployment="${id}"]`);
          await row.waitFor();
          assert.match(await row.innerText(), /done/);
          await checkPage(page, 'deployments', problems);

          // Cancel (after a confirmation) and retry the deployment queued for rack-3.
          const [queued] = await server.session.deployments.list({ machine: RACK.name });
          assert.ok(queued !== undefined);
          const rackRow = page.locator(`tr[data-deployment="${queued.id}"]`);
          await rackRow
            .getByRole('button', { name: `Cancel deployment ${queued.id} to ${RACK.name}` })
            .click();
          const cancelDialog = page.getByRole('dialog', { name: `Cancel the deployment to ${RACK.name}?` });
          await cancelDialog.getByRole('button', { name: 'Cancel the deployment' }).click();
          await rackRow.locator('.badge', { hasText: 'cancelled' }).waitFor();
          assert.equal((await server.session.deployments.show(queued.id)).state, 'cancelled');
          await rackRow
            .getByRole('button', { name: `Retry deployment ${queued.id} to ${RACK.name}` })
            .click();
          await page.getByRole('heading', { name: /^Deployment / }).waitFor();
          const retried = decodeURIComponent(new URL(page.url()).hash.split('/')[2] ?? '');
          assert.notEqual(retried, queued.id);
          assert.equal((await server.session.deployments.show(retried)).state, 'queued');
          await page.locator('.status-line .badge', { hasText: 'queued' }).waitFor();

          // No URL the page asked for carried the token.
          const secret = (JSON.parse(stored) as { token: string }).token;
          assert.deepEqual(
            urls.filter((u) => u.includes(secret) || /token=/i.test(u)),
            [],
          );

          // Sign out: the token is gone from the tab.
          await page.getByRole('button', { name: 'Sign out' }).click();
          await page.getByRole('heading', { name: 'winsmith console' }).waitFor();
          assert.equal(await page.evaluate(() => (globalThis as unknown as InPage).sessionStorage.length), 0);
          await context.close();

          // A viewer: no approve, deploy, cancel or retry; the API refuses the deployment anyway.
          const viewer = await browser.newContext({ viewport: LAPTOP });
          const seen = await viewer.newPage();
          const viewerProblems = watchPage(seen);
          await signIn(seen, server.url, 'watcher');
          await seen.getByRole('link', { name: 'Machines' }).click();
          await seen.getByRole('heading', { name: 'Inventory' }).waitFor();
          await seen.getByText(SECOND_PENDING).first().waitFor();
          assert.equal(await seen.getByRole('button', { name: /Approve|Deploy/ }).count(), 0);
          assert.equal(await seen.getByRole('combobox').count(), 0);
          await checkPage(seen, 'machines-viewer', viewerProblems);
          await seen.getByRole('link', { name: 'Deployments', exact: true }).click();
          await seen.locator(`tr[data-deployment="${id}"]`).waitFor();
          assert.equal(await seen.getByRole('button', { name: /Cancel|Retry/ }).count(), 0);
          await checkPage(seen, 'deployments-viewer', viewerProblems);
          await viewer.close();

          const login = await fetch(`${server.url}/api/v1/login`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ user: 'watcher', password: PASSWORD }),
          });
          const { token } = (await login.json()) as { token: string };
          await server.session.machines.approve(SECOND_PENDING);
          const refused = await fetch(`${server.url}/api/v1/deployments`, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body: JSON.stringify({ machine: SECOND_PENDING, profile: 'lab' }),
          });
          assert.equal(refused.status, 403);
          assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'FORBIDDEN');
          assert.equal(
            await server.session.deployments.list({ machine: SECOND_PENDING }).then((l) => l.length),
            0,
          );
        });
      } finally {
        await server.close();
      }
    });
  },
);
