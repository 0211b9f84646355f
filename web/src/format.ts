// How the console writes sizes, times and ratios.

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

/** 1536 → '1.5 KiB'. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? String(value) : value.toFixed(value < 10 ? 2 : 1)} ${UNITS[unit] ?? 'B'}`;
}

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
