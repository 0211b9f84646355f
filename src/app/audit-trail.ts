// Every change an actor makes is written to the audit log under its name and address: the one
// place the application layer records them.

import type { AuditLog } from '../audit/audit-log.ts';
import type { Actor } from './session.ts';

/** Records one change by `actor`: what it did (`image.push`), to what, with details. */
export type Recorder = (
  action: string,
  target: string | null,
  details?: Record<string, unknown>,
) => Promise<void>;

export function recorderFor(audit: AuditLog, actor: Actor): Recorder {
  return async (action, target, details = {}) => {
    await audit.appendAudit({ actor: actor.user, action, target, client: actor.client, details });
  };
}
