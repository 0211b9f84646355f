// A one-line progress bar on stderr, redrawn in place, drawn only on a terminal.

import type { ProgressEvent, ProgressListener } from '../core/progress.ts';
import { formatBytes } from './format.ts';

const WIDTH = 30;

/** `[#####-----]  48% 1.2 GiB / 2.5 GiB`: a bar of `width` characters, the percent, the amounts. */
export function barText(
  e: Pick<ProgressEvent, 'done' | 'total'> & { readonly unit?: ProgressEvent['unit'] },
  width: number,
): string {
  const fraction = e.total > 0 ? Math.min(1, e.done / e.total) : 0;
  const filled = Math.round(fraction * width);
  const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
  const amount =
    e.unit === 'bytes' ? `${formatBytes(e.done)} / ${formatBytes(e.total)}` : `${e.done} / ${e.total}`;
  return `[${bar}] ${(fraction * 100).toFixed(0).padStart(3)}% ${amount}`;
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
  const render = (e: ProgressEvent): string => `${e.phase} ${barText(e, WIDTH)}`;
  return {
    listener(e) {
      if (!stream.isTTY) return;
      const now = Date.now();
      const complete = e.done >= e.total;
      if (e.phase === lastPhase && !complete && now - lastDraw < 100) return;
      if (e.phase !== lastPhase && drawn) stream.write('\n');
      lastPhase = e.phase;
      lastDraw = now;
      stream.write(`\r${render(e).slice(0, (stream.columns || 80) - 1)}\u001b[K`);
      drawn = true;
    },
    finish() {
      if (drawn) stream.write('\n');
      drawn = false;
      lastPhase = '';
    },
  };
}
