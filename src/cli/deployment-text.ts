// How the deployment commands show a deployment: a table row with its progress, every field of
// one, and the lines of a live display.

import type { DeploymentView } from '../app/deployments.ts';
import { formatFields } from './format.ts';
import { barText } from './progress-bar.ts';

const BAR_WIDTH = 20;

/** The states a deployment no longer moves from (ENDED_STATES, without loading the catalog). */
const ENDED: readonly string[] = ['done', 'failed', 'cancelled'];

export function hasEnded(d: Pick<DeploymentView, 'state'>): boolean {
  return ENDED.includes(d.state);
}

/** `[#####-----]  48% 1.2 GiB / 2.5 GiB` while applying; the state's own word otherwise. */
export function progressText(d: DeploymentView): string {
  if (d.progress.total === 0) return '-';
  return barText({ ...d.progress, unit: 'bytes' }, BAR_WIDTH);
}

export const DEPLOYMENT_HEADER = [
  'ID',
  'MACHINE',
  'PROFILE',
  'IMAGE',
  'STATE',
  'PROGRESS',
  'MULTICAST',
  'UPDATED',
];

/** `rack-1 receiving (session sending 45%)`, or `-` for a deployment in no multicast session. */
export function multicastText(d: DeploymentView): string {
  const m = d.multicast;
  if (m === undefined) return '-';
  const sent = m.bytesTotal === 0 ? '' : ` ${Math.floor((100 * m.bytesSent) / m.bytesTotal)}%`;
  const reason = m.reason === null ? '' : `: ${m.reason}`;
  const error = m.sessionError === null ? '' : `: ${m.sessionError}`;
  return `${m.group} ${m.state}${reason} (session ${m.sessionState}${sent}${error})`;
}

export function deploymentRow(d: DeploymentView): string[] {
  return [
    d.id,
    d.machine.name ?? d.machine.mac ?? d.machineId,
    d.kind === 'capture' ? '(capture)' : d.profile,
    `${d.image.name}:${d.image.tag}`,
    d.error === null ? d.state : `${d.state}: ${d.error.message}`.slice(0, 80),
    progressText(d),
    multicastText(d).slice(0, 60),
    d.updatedAt,
  ];
}

/** One deployment, field by field, with every state it went through and when. */
export function deploymentText(d: DeploymentView): string {
  return formatFields([
    ['id', d.id],
    ['kind', d.kind],
    ['machine', [d.machine.name, d.machine.mac, d.machineId].filter((x) => x !== null).join(' ')],
    ...(d.kind === 'capture'
      ? ([
          [
            'image',
            `${d.image.name}:${d.image.tag} (${d.image.digest === '' ? 'not committed yet' : `sha256:${d.image.digest.slice(0, 12)}…`})`,
          ],
          [
            'partition',
            d.capturePartition === null
              ? 'the largest NTFS partition holding Windows'
              : String(d.capturePartition),
          ],
        ] as const)
      : ([
          ['profile', d.profile],
          [
            'image',
            `${d.image.name}:${d.image.tag} (sha256:${d.image.digest.slice(0, 12)}…, edition ${d.image.edition})`,
          ],
        ] as const)),
    ['state', d.state],
    ['progress', progressText(d)],
    [
      'multicast',
      d.multicast === undefined
        ? '-'
        : `${multicastText(d)}, ${d.multicast.address}, session ${d.multicast.session}`,
    ],
    ['disk', d.disk ?? '-'],
    ['error', d.error === null ? '-' : `${d.error.message} (in ${d.error.step})`],
    ['created', `${d.createdAt}${d.createdBy === null ? '' : ` by ${d.createdBy}`}`],
    ['last report', d.lastReportAt ?? '-'],
    ...(d.kind === 'capture' ? [] : ([['answer file fetched', d.unattendFetchedAt ?? '-']] as const)),
    ['history', d.history.map((h) => `${h.at} ${h.state}`).join('\n')],
  ]);
}
