// How a build reads on the terminal: its record (source, edition, phases, steps, result), and a
// server's build with who started it and its state; one row of `winsmith builds`.

import type { BuildView } from '../app/builds.ts';
import type { BuildRecord } from '../build/build-record.ts';
import { formatFields, formatTable } from './format.ts';

export function recordText(r: BuildRecord, folder: string | null): string {
  return [
    formatFields([
      ['build', `${r.id}: ${r.state}`],
      ...(folder === null ? [] : ([['folder', folder]] as [string, string][])),
      ['recipe', `${r.recipe.file} (${r.recipe.sha256.slice(0, 12)})`],
      [
        'source',
        r.source.kind === 'iso'
          ? `${r.source.path} (${r.source.sha256.slice(0, 12)})`
          : `${r.source.ref} ${r.source.digest}`,
      ],
      ['edition', `${r.edition.index} ${r.edition.editionId} build ${r.edition.build}`],
      ['accelerator', r.accelerator],
      ...(r.result === null
        ? []
        : ([
            ['stored', r.result.ref === null ? '-' : `${r.result.ref} ${r.result.digest ?? ''}`],
            ['disk', r.result.disk ?? '-'],
          ] as [string, string][])),
      ...(r.error === null ? [] : ([['error', r.error]] as [string, string][])),
    ]),
    formatTable(
      ['phase', 'state', 'boots', 'started', 'ended'],
      (['install', 'provision', 'generalize'] as const).map((p) => [
        p,
        r.phases[p].state,
        String(r.phases[p].boots),
        r.phases[p].startedAt ?? '-',
        r.phases[p].endedAt ?? '-',
      ]),
    ),
    r.steps.length === 0
      ? 'no provisioning step'
      : formatTable(
          ['step', 'kind', 'state', 'rounds', 'where'],
          r.steps.map((s) => [String(s.index + 1), s.kind, s.state, String(s.rounds), s.where]),
        ),
  ].join('\n\n');
}

/** The phase a build is in, or its last: what one word says of how far it went. */
function phaseOf(b: BuildView): string {
  const phases = b.record?.phases;
  if (phases === undefined) return '-';
  const order = ['generalize', 'provision', 'install'] as const;
  const at = order.find((p) => phases[p].state !== 'pending');
  return at === undefined ? '-' : `${at} ${phases[at].state}`;
}

export function buildText(b: BuildView): string {
  const head = formatFields([
    ['build', `${b.id}: ${b.state}`],
    ['owner', b.owner],
    ['recipe', `${b.recipe.file} (${b.recipe.sha256.slice(0, 12)})`],
    ['output', b.output],
    ['created', b.createdAt],
    ['started', b.startedAt ?? '-'],
    ['ended', b.endedAt ?? '-'],
    ...(b.error === null ? [] : ([['error', `${b.error.code}: ${b.error.message}`]] as [string, string][])),
  ]);
  return b.record === null ? head : `${head}\n\n${recordText(b.record, null)}`;
}

export const BUILD_HEADER = ['id', 'state', 'output', 'owner', 'phase', 'created'];

export function buildRow(b: BuildView): string[] {
  return [b.id, b.state, b.output, b.owner, phaseOf(b), b.createdAt];
}

export function hasBuildEnded(b: Pick<BuildView, 'state'>): boolean {
  return b.state === 'done' || b.state === 'failed' || b.state === 'cancelled';
}
