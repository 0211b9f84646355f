// Real Chromium for the console's tests (Debian's `chromium`, driven by playwright-core): launched
// headless, with every page checked by axe-core, walked with the Tab key, and photographed into
// out/console/ (git-ignored) so that a person can look at each page after a run.

import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** An element as the functions run in the page use it (this project's types have no DOM). */
export interface InPageElement {
  readonly tagName: string;
  readonly className: string;
  readonly textContent: string | null;
  readonly dataset: Record<string, string | undefined>;
  readonly parentElement: InPageElement | null;
  getBoundingClientRect(): { readonly right: number };
  getClientRects(): { readonly length: number };
  blur(): void;
}

/** The page's globals those functions use: each starts with `globalThis as unknown as InPage`. */
export interface InPage {
  readonly innerWidth: number;
  readonly sessionStorage: { readonly length: number; getItem(key: string): string | null };
  readonly document: {
    readonly documentElement: { readonly scrollWidth: number };
    readonly activeElement: InPageElement | null;
    querySelector(selector: string): (InPageElement & { readonly value?: number }) | null;
    querySelectorAll(selector: string): Iterable<InPageElement>;
  };
  getComputedStyle(element: InPageElement): { readonly visibility: string; readonly overflowX: string };
  readonly axe: { run(context: unknown): Promise<{ violations: AxeViolation[] }> };
}

/** Why the browser tests cannot run here, or false when they can. */
export const NO_BROWSER: string | false = existsSync(CHROMIUM)
  ? false
  : `${CHROMIUM} is not installed: scripts/setup.sh installs it (Debian package chromium) when run as root`;

export const SCREENSHOTS = fileURLToPath(new URL('../../out/console/', import.meta.url));

export const LAPTOP = { width: 1366, height: 768 } as const;
export const TABLET = { width: 820, height: 1180 } as const;

/** Chromium, with command-line switches `args` besides those it always gets. */
export async function launchChromium(args: readonly string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Chromium's sandbox needs user namespaces a root process in a container may not have.
    args: [...(process.getuid?.() === 0 ? ['--no-sandbox'] : []), ...args],
  });
}

/**
 * Records what a page should never do: a script error, a console error (a refused request shows
 * as one only when the page does not handle it), a request the Content-Security-Policy blocked.
 */
export function watchPage(page: Page): string[] {
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && !/Failed to load resource/.test(message.text())) {
      problems.push(`console error: ${message.text()}`);
    }
  });
  return problems;
}

/** Every URL the page asks for, to show that no secret travels in one. */
export function recordUrls(page: Page): string[] {
  const urls: string[] = [];
  page.on('request', (request) => urls.push(request.url()));
  return urls;
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: `${SCREENSHOTS}${name}.png`, fullPage: true });
}

export interface AxeViolation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly nodes: readonly { readonly target: readonly string[] }[];
}

let axeSource: string | null = null;

/** axe-core's violations of impact serious or critical on the page as it is now. */
export async function seriousViolations(page: Page): Promise<string[]> {
  axeSource ??= await readFile(fileURLToPath(import.meta.resolve('axe-core/axe.min.js')), 'utf8');
  // Through the DevTools protocol, which the page's Content-Security-Policy does not govern.
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const w = globalThis as unknown as InPage;
    return (await w.axe.run(w.document)).violations;
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) => `${v.id} (${v.impact ?? ''}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
    );
}

/**
 * The controls (links, buttons, fields) the Tab key never reaches, of those visible on the page:
 * each is marked, then Tab is pressed until the focus has gone round the page once.
 */
export async function unreachableByKeyboard(page: Page): Promise<string[]> {
  const count = await page.evaluate(() => {
    const w = globalThis as unknown as InPage;
    const controls = [
      ...w.document.querySelectorAll(
        'a[href], button:not([disabled]), select:not([disabled]), input:not([disabled]), [tabindex="0"]',
      ),
    ].filter((el) => el.getClientRects().length > 0 && w.getComputedStyle(el).visibility !== 'hidden');
    controls.forEach((el, i) => (el.dataset.kbd = String(i)));
    w.document.activeElement?.blur();
    return controls.length;
  });
  const reached = new Set<string>();
  // A date and time field takes a Tab stop for each of its parts: room for those, and done once
  // every control was reached.
  for (let i = 0; i < 3 * count + 5 && reached.size < count; i++) {
    await page.keyboard.press('Tab');
    const mark = await page.evaluate(
      () => (globalThis as unknown as InPage).document.activeElement?.dataset.kbd ?? null,
    );
    if (mark !== null) reached.add(mark);
  }
  await page.evaluate(() => (globalThis as unknown as InPage).document.activeElement?.blur());
  return page.evaluate(
    (seen) =>
      [...(globalThis as unknown as InPage).document.querySelectorAll('[data-kbd]')]
        .filter((el) => !seen.includes(el.dataset.kbd ?? ''))
        .map((el) => `${el.tagName.toLowerCase()} "${(el.textContent ?? '').trim().slice(0, 40)}"`),
    [...reached],
  );
}

/**
 * What makes the page wider than the window (a laptop or tablet user would scroll sideways): the
 * first elements that reach past its right edge; none when the page fits.
 */
export function sidewaysOverflow(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const w = globalThis as unknown as InPage;
    if (w.document.documentElement.scrollWidth <= w.innerWidth + 1) return [];
    /** Whether a box of its own that scrolls or clips holds the element (a wide table's). */
    const held = (el: InPageElement): boolean => {
      for (let p = el.parentElement; p !== null; p = p.parentElement) {
        if (w.getComputedStyle(p).overflowX !== 'visible') return true;
      }
      return false;
    };
    return [...w.document.querySelectorAll('body *')]
      .filter((el) => el.getBoundingClientRect().right > w.innerWidth + 1 && !held(el))
      .slice(0, 5)
      .map(
        (el) =>
          `${el.tagName.toLowerCase()}.${el.className} (${Math.round(el.getBoundingClientRect().right)} px)`,
      );
  });
}

/**
 * What every page must be: accessible, reachable by keyboard, no wider than a laptop or a tablet,
 * free of script errors (`problems`, from watchPage); photographed as `name` at both sizes.
 */
export async function checkPage(page: Page, name: string, problems: string[]): Promise<void> {
  assert.deepEqual(await seriousViolations(page), [], `${name}: axe-core`);
  assert.deepEqual(await unreachableByKeyboard(page), [], `${name}: controls the Tab key never reaches`);
  await screenshot(page, `${name}-laptop`);
  assert.deepEqual(await sidewaysOverflow(page), [], `${name}: wider than a laptop window`);
  await page.setViewportSize(TABLET);
  assert.deepEqual(await sidewaysOverflow(page), [], `${name}: wider than a tablet window`);
  await screenshot(page, `${name}-tablet`);
  await page.setViewportSize(LAPTOP);
  assert.deepEqual(problems, [], `${name}: script errors`);
}
