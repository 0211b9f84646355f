// What `winsmith lab deploy --keep` left, removed with the commands it printed (each must succeed).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { LabSummary } from '../../src/app/lab.ts';

export function removeKept(kept: NonNullable<LabSummary['kept']>): void {
  for (const command of kept.remove) {
    const [program = '', ...args] = command.split(' ');
    const removed = spawnSync(program, args);
    assert.equal(removed.status, 0, `${command}: ${removed.stderr.toString()}`);
  }
}
