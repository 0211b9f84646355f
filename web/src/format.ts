// How the console writes sizes (as the CLI does: src/cli/format.ts), times and ratios.

export { formatBytes } from '../../src/cli/format.ts';

/** An ISO time as this browser's locale writes it; '—' for none. */
export function formatTime(iso: string | null | undefined): string {
  if (iso === null || iso === undefined) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

/** A whole percentage of done/total; 0 when the total is not known yet. */
export function percent(done: number, total: number): number {
  return total > 0 ? Math.min(100, Math.floor((done * 100) / total)) : 0;
}

/** sha256:0123456789ab… → '0123456789ab'. */
export function shortDigest(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12);
}

/** How a machine is named to a person: its name, else its MAC, else its id. */
export function machineLabel(m: {
  readonly name: string | null;
  readonly mac: string | null;
  readonly id: string;
}): string {
  return m.name ?? m.mac ?? m.id;
}
