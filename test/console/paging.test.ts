// The console on an inventory larger than a page: a real `winsmith server` holding 150 images, 150
// machines (every tenth pending) and 120 deployments, and real Chromium. The images, machines and
// deployments pages show a first page of 100, and the rest when "More" is pressed from the
// keyboard; the machines' inventory is narrowed to a state by the server (the request says so), a
// page at a time too. Every page: no serious or critical axe-core violation, every control reached
// by Tab, no script error.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { withTempDir } from '../../src/io/output.ts';
import {
  NO_BROWSER,
  launchChromium,
  recordUrls,
  seriousViolations,
  unreachableByKeyboard,
  watchPage,
} from './browser.ts';
import {
  imageRefOf,
  isPending,
  macOf,
  signInOperator,
  startInventoryServer,
} from '../helpers/inventory-server.ts';

const SIZE = { images: 150, machines: 150, deployments: 120 } as const;
const PAGE = 100;

/** The text of the first cell of each row of the page's table. */
function firstCells(page: Page): Promise<string[]> {
  return page.locator('tbody tr td:first-child').allInnerTexts();
}

/** Presses `name` with the keyboard (focus, Enter) and waits for the table to hold `rows` rows. */
async function more(page: Page, name: string, rows: number): Promise<void> {
  await page.getByRole('button', { name }).focus();
  await page.keyboard.press('Enter');
  await page
    .locator('tbody tr')
    .nth(rows - 1)
    .waitFor();
}

async function accessible(page: Page, name: string): Promise<void> {
  assert.deepEqual(await seriousViolations(page), [], `${name}: axe-core`);
  assert.deepEqual(await unreachableByKeyboard(page), [], `${name}: controls the Tab key never reaches`);
}

test(
  'the console pages through images and machines, and filters machines on the server',
  { skip: NO_BROWSER },
  async () => {
    await withTempDir(async (dir) => {
      const { server } = await startInventoryServer(dir, SIZE);
      const browser = await launchChromium();
      try {
        const page = await browser.newPage();
        const problems = watchPage(page);
        const urls = recordUrls(page);
        await signInOperator(page, server.url);

        // Images: the first page, then the rest.
        await page.getByRole('heading', { name: 'Images' }).waitFor();
        await page.getByText(`${PAGE} images shown, more to come.`).waitFor();
        const names = (i: number): string => `${imageRefOf(i).name}:${imageRefOf(i).tag}`;
        const all = Array.from({ length: SIZE.images }, (_, i) => names(i));
        assert.deepEqual(await firstCells(page), all.slice(0, PAGE));
        await accessible(page, 'images');
        await more(page, 'More images', SIZE.images);
        await page.getByText(`All ${SIZE.images} images shown.`).waitFor();
        assert.deepEqual(await firstCells(page), all);
        assert.equal(await page.getByRole('button', { name: 'More images' }).count(), 0);

        // Machines: those waiting (one page), the inventory a page at a time.
        await page.getByRole('link', { name: 'Machines' }).click();
        await page.getByRole('heading', { name: 'Inventory' }).waitFor();
        const macs = Array.from({ length: SIZE.machines }, (_, i) => macOf(i));
        const pending = macs.filter((_, i) => isPending(i));
        await page.getByText(`All ${pending.length} waiting machines shown.`).waitFor();
        for (const mac of pending) await page.getByRole('button', { name: `Approve ${mac}` }).waitFor();
        await page.getByText(`${PAGE} machines shown, more to come.`).waitFor();
        assert.deepEqual(await firstCells(page), macs.slice(0, PAGE));
        await accessible(page, 'machines');
        await more(page, 'More machines', SIZE.machines);
        assert.deepEqual(await firstCells(page), macs);

        // Ready machines only: asked of the server, and paged again from the first.
        await page
          .getByRole('group', { name: 'Show machines' })
          .getByRole('button', { name: 'Ready' })
          .click();
        assert.equal(await page.getByRole('button', { name: 'Ready', pressed: true }).count(), 1);
        const ready = macs.filter((_, i) => !isPending(i));
        await page.getByText(`${PAGE} machines shown, more to come.`).waitFor();
        assert.deepEqual(await firstCells(page), ready.slice(0, PAGE));
        await more(page, 'More machines', ready.length);
        await page.getByText(`All ${ready.length} machines shown.`).waitFor();
        assert.deepEqual(await firstCells(page), ready);
        const asked = urls.filter((u) => u.includes('/api/v1/machines?')).map((u) => new URL(u).search);
        assert.ok(asked.includes(`?state=ready&limit=${PAGE}`), asked.join(' '));
        assert.ok(asked.includes('?state=pending&limit=24'), asked.join(' '));
        assert.ok(
          asked.every((q) => Number(new URLSearchParams(q).get('limit')) <= PAGE),
          asked.join(' '),
        );

        // Deployments: the newest 100, then the rest.
        await page.getByRole('link', { name: 'Deployments', exact: true }).click();
        await page.getByRole('heading', { name: 'Deployments', exact: true }).waitFor();
        await page.getByText(`${PAGE} deployments shown, more to come.`).waitFor();
        await accessible(page, 'deployments');
        await more(page, 'More deployments', SIZE.deployments);
        await page.getByText(`All ${SIZE.deployments} deployments shown.`).waitFor();
        const deployed = await page.locator('tbody tr td:nth-child(2)').allInnerTexts();
        assert.deepEqual(deployed.sort(), ready.slice(0, SIZE.deployments).sort());
        assert.deepEqual(problems, [], 'script errors');
      } finally {
        await browser.close();
        await server.close();
      }
    });
  },
);
