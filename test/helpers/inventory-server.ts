// `winsmith server` in this process (serveRepository, SQLite catalog) holding an inventory of a
// chosen size, for the console's paging test and bench/ui: N images (one small WIM pushed, every
// other name:tag a tag on it, as `winsmith tag` makes them), M machines recorded as the boot
// services record them (every tenth pending, the others approved), D deployments queued to ready
// machines, and an operator account.
// Seeded through the application layer and the machines' store, not over HTTP. signInOperator
// signs in to its console in a browser.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { artifactMetaOf } from '../../src/app/artifact-meta.ts';
import type { LocalApp } from '../../src/app/local-app.ts';
import { pushFile } from '../../src/app/transfer.ts';
import { embeddedSettings, type TlsSettings } from '../../src/config/server-config.ts';
import { wimCapture } from '../../src/engines/wimlib.ts';
import { MachineStore } from '../../src/machines/machine-store.ts';
import { silentLogger } from '../../src/server/log.ts';
import { serveRepository } from '../../src/server/serve.ts';
import type { RunningServer } from '../../src/server/server.ts';

export const OPERATOR = { name: 'ops', password: 'a long console password' } as const;

export interface InventorySize {
  readonly images: number;
  readonly machines: number;
  /** Deployments of the first image to the first ready machines, queued (default none). */
  readonly deployments?: number;
}

/** The name:tag of image `i` and the MAC of machine `i`, as seeded (in listing order). */
export const imageRefOf = (i: number) => ({ name: `lab/image-${String(i).padStart(5, '0')}`, tag: 'v1' });
export const macOf = (i: number): string =>
  `52:54:00:${[16, 8, 0].map((shift) => ((i >> shift) & 0xff).toString(16).padStart(2, '0')).join(':')}`;

/** Machine `i` waits for approval when this holds; the others are ready. */
export const isPending = (i: number): boolean => i % 10 === 0;

/** Serves a new data directory under `dir` holding `size`, over HTTPS when `tls` is given. */
export async function startInventoryServer(
  dir: string,
  size: InventorySize,
  tls: TlsSettings | null = null,
): Promise<{ server: RunningServer; app: LocalApp }> {
  const { server, app } = await serveRepository(
    { ...embeddedSettings(join(dir, 'data')), host: '127.0.0.1', port: 0, tls },
    { logger: silentLogger },
  );
  try {
    await seed(app, dir, size);
    return { server, app };
  } catch (e) {
    await server.close();
    throw e;
  }
}

/** Opens the console at `url` and signs in as OPERATOR with its form; the token the server issued. */
export async function signInOperator(page: Page, url: string): Promise<string> {
  await page.goto(url);
  await page.getByLabel('User').fill(OPERATOR.name);
  await page.getByLabel('Password').fill(OPERATOR.password);
  const login = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/login');
  await page.getByRole('button', { name: 'Sign in' }).click();
  const { token } = (await (await login).json()) as { token: string };
  await page.getByRole('heading', { name: 'Images' }).waitFor();
  return token;
}

async function seed(app: LocalApp, dir: string, size: InventorySize): Promise<void> {
  const setup = app.as({ user: 'setup', client: 'test' });
  await setup.accounts.addUser({ ...OPERATOR, role: 'operator', scopes: [] });
  if (size.images > 0) {
    const tree = join(dir, 'tree');
    await mkdir(join(tree, 'Windows'), { recursive: true });
    await writeFile(join(tree, 'Windows', 'a.txt'), 'a');
    const wim = join(dir, 'small.wim');
    await wimCapture(tree, wim, { name: 'Windows Server 2022 SERVERSTANDARD', compression: 'none' });
    const first = imageRefOf(0);
    await pushFile(setup.images, wim, first, await artifactMetaOf(wim));
    for (let i = 1; i < size.images; i++) await setup.images.tag(first, imageRefOf(i));
  }
  const machines = new MachineStore(app.database);
  const start = Date.parse('2026-01-01T00:00:00.000Z');
  for (let i = 0; i < size.machines; i++) {
    const { machine } = await machines.recordMachineSeen({
      mac: macOf(i),
      manufacturer: 'QEMU',
      product: 'Standard PC (Q35 + ICH9, 2009)',
      serial: `SN-${i}`,
      now: new Date(start + i * 1000).toISOString(),
    });
    if (!isPending(i)) await machines.approveMachine(machine.id);
  }
  if ((size.deployments ?? 0) > 0) {
    const image = imageRefOf(0);
    await setup.profiles.apply(`name: lab\nimage: ${image.name}:${image.tag}\n`, 'lab.yaml');
    const ready = Array.from({ length: size.machines }, (_, i) => i).filter((i) => !isPending(i));
    for (const i of ready.slice(0, size.deployments)) {
      await setup.deployments.create({ machine: macOf(i), profile: 'lab' });
    }
  }
}
