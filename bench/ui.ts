// Benchmark: the web console on a large inventory against a small one. Two `winsmith server`s in
// this process (SQLite catalogs), one seeded with LARGE_MACHINES machines and LARGE_IMAGES images,
// the other with 10 of each (test/helpers/inventory-server.ts: through the application layer and
// the machines' store, the images all tags on one small WIM). Real Chromium (Debian `chromium`,
// driven by playwright-core) signs in to each once, then each round opens the machines page and
// the images page of each server from a blank page and times navigation until the page's first
// table row is visible. The servers take turns going first (A B, then B A); medians over ROUNDS.
//
//   npm run bench:ui [-- ROUNDS=7 [LARGE_MACHINES=10000 [LARGE_IMAGES=1000]]]
//
// Prints each round, the medians and, per page, the ratio large/small (goal ≤ 1.5×): a page shows
// its first page of records whatever the inventory holds.

import type { BrowserContext, Page } from 'playwright-core';
import { withTempDir } from '../src/io/output.ts';
import type { RunningServer } from '../src/server/server.ts';
import { launchChromium } from '../test/console/browser.ts';
import {
  signInOperator,
  startInventoryServer,
  type InventorySize,
} from '../test/helpers/inventory-server.ts';
import { median, timed } from './timed.ts';

const rounds = Number(process.argv[2] ?? 7);
const large: InventorySize = {
  machines: Number(process.argv[3] ?? 10_000),
  images: Number(process.argv[4] ?? 1000),
};
const small: InventorySize = { machines: 10, images: 10 };
const PAGES = ['machines', 'images'] as const;
type PageName = (typeof PAGES)[number];

interface Side {
  readonly label: string;
  readonly server: RunningServer;
  readonly page: Page;
  readonly seconds: Record<PageName, number[]>;
}

/** Seconds from navigating to `view` (from a blank page) until its first table row is visible. */
async function firstScreen(side: Side, view: PageName): Promise<number> {
  await side.page.goto('about:blank');
  const [, seconds] = await timed(async () => {
    await side.page.goto(`${side.server.url}/#/${view}`);
    await side.page.locator('tbody tr').first().waitFor({ state: 'visible' });
  });
  return seconds;
}

async function openSide(label: string, context: BrowserContext, server: RunningServer): Promise<Side> {
  const page = await context.newPage();
  await signInOperator(page, server.url);
  return { label, server, page, seconds: { machines: [], images: [] } };
}

async function main(): Promise<void> {
  await withTempDir(async (dir) => {
    process.stderr.write(`seeding ${large.machines} machines and ${large.images} images…\n`);
    const [big] = await timed(() => startInventoryServer(`${dir}/large`, large));
    const little = await startInventoryServer(`${dir}/small`, small);
    const browser = await launchChromium();
    try {
      const context = await browser.newContext();
      const sides = [
        await openSide('large', context, big.server),
        await openSide('small', context, little.server),
      ] as const;
      // One untimed visit of each page on each side: the console's files in the browser's cache.
      for (const side of sides) for (const view of PAGES) await firstScreen(side, view);
      for (let round = 0; round < rounds; round++) {
        const order = round % 2 === 0 ? sides : ([sides[1], sides[0]] as const);
        const line: string[] = [];
        for (const side of order) {
          for (const view of PAGES) {
            const seconds = await firstScreen(side, view);
            side.seconds[view].push(seconds);
            line.push(`${side.label} ${view} ${(seconds * 1000).toFixed(0)} ms`);
          }
        }
        process.stdout.write(`round ${round + 1}: ${line.join(', ')}\n`);
      }
      const [l, s] = sides;
      const out = [
        `inventories: large ${large.machines} machines, ${large.images} images; small ${small.machines} and ${small.images}`,
      ];
      for (const view of PAGES) {
        const ml = median(l.seconds[view]);
        const ms = median(s.seconds[view]);
        out.push(
          `${view} page, first rows visible: large ${(ml * 1000).toFixed(0)} ms, small ${(ms * 1000).toFixed(0)} ms (medians of ${rounds}), ratio ${(ml / ms).toFixed(2)}× (goal ≤ 1.5×)`,
        );
      }
      process.stdout.write(`${out.join('\n')}\n`);
      await context.close();
    } finally {
      await browser.close();
      await big.server.close();
      await little.server.close();
    }
  });
}

await main();
