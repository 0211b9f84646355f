// A one-line progress bar on stderr, redrawn in place, drawn only on a terminal.

import type { ProgressEvent, ProgressListener } from '../core/progress.ts';
import { formatBytes } from './format.ts';

/** The widest bar drawn, and the narrowest still worth drawing on a progress line. */
const MAX_BAR = 30;
const MIN_BAR = 10;

type Amounts = Pick<ProgressEvent, 'done' | 'total'> & { readonly unit?: ProgressEvent['unit'] };

function fractionOf(e: Amounts): number {
  return e.total > 0 ? Math.min(1, e.done / e.total) : 0;
}

/** ` 48% 1.2 GiB / 2.5 GiB`: the percent and the amounts. */
function amountsText(e: Amounts): string {
  const amount =
    e.unit === 'bytes' ? `${formatBytes(e.done)} / ${formatBytes(e.total)}` : `${e.done} / ${e.total}`;
  return `${(fractionOf(e) * 100).toFixed(0).padStart(3)}% ${amount}`;
}

/** `[#####-----]`: a bar of `width` characters between the brackets. */
function drawnBar(fraction: number, width: number): string {
  const filled = Math.round(fraction * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

/** `[#####-----]  48% 1.2 GiB / 2.5 GiB`: a bar of `width` characters, the percent, the amounts. */
export function barText(e: Amounts, width: number): string {
  return `${drawnBar(fractionOf(e), width)} ${amountsText(e)}`;
}

/** The characters of `text` as a person counts them (grapheme clusters). */
function charactersOf(text: string): string[] {
  return Array.from(new Intl.Segmenter().segment(text), (s) => s.segment);
}

/** `text` cut to `width` characters by taking out its middle (`Downloading from http://…:8080`). */
export function cutMiddle(text: string, width: number): string {
  const chars = charactersOf(text);
  if (chars.length <= width) return text;
  if (width <= 1) return '…'.slice(0, Math.max(0, width));
  const keep = width - 1;
  const head = Math.ceil(keep / 2);
  return `${chars.slice(0, head).join('')}…${chars.slice(chars.length - (keep - head)).join('')}`;
}

/**
 * One progress line of at most `columns - 1` characters (the last column left empty, so that no
 * terminal wraps it): the percentage and the amounts always whole at the end, the bar as wide as
 * fits (10 to 30), and the label cut from the middle when it is too long.
 */
export function progressLine(e: ProgressEvent, columns: number): string {
  const width = Math.max(1, columns - 1);
  const tail = amountsText(e);
  // What the label and the bar share: the line less the tail and the space before it.
  const room = width - tail.length - 1;
  const bar = Math.min(MAX_BAR, room - Math.min(charactersOf(e.phase).length, 30) - 3);
  if (bar < MIN_BAR) return room >= 4 ? `${cutMiddle(e.phase, room)} ${tail}` : tail.slice(0, width);
  return `${cutMiddle(e.phase, room - bar - 3)} ${drawnBar(fractionOf(e), bar)} ${tail}`;
}

export interface ProgressBar {
  readonly listener: ProgressListener;
  /** Ends the current line, if a bar was drawn. */
  finish(): void;
}

export function createProgressBar(stream: NodeJS.WriteStream): ProgressBar {
  let drawn = false;
  let lastPhase = '';
  let lastDraw = 0;

  return {
    listener(e) {
      if (!stream.isTTY) return;
      const now = Date.now();
      const complete = e.done >= e.total;
      if (e.phase === lastPhase && !complete && now - lastDraw < 100) return;
      if (e.phase !== lastPhase && drawn) stream.write('\n');
      lastPhase = e.phase;
      lastDraw = now;
      stream.write(`\r${progressLine(e, stream.columns || 80)}\u001b[K`);
      drawn = true;
    },
    finish() {
      if (drawn) stream.write('\n');
      drawn = false;
      lastPhase = '';
    },
  };
}
