import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { afterReport, afterStop, startPhase, type PhaseState } from './build-phases.ts';
import type { BuildReport } from './build-report.ts';

function report(state: PhaseState, r: BuildReport): PhaseState {
  const after = afterReport(state, r);
  assert.equal(after.fail, null);
  return after.state;
}

describe('build phases', () => {
  test('a whole build: restarts within a phase boot again; the restart after its last report keeps the disk', () => {
    let s = startPhase('install');
    assert.deepEqual(afterStop(s, 'restart'), { kind: 'boot' }, 'Setup restarts by itself');
    s = report(s, { event: 'installed' });
    assert.deepEqual(afterStop(s, 'restart'), { kind: 'checkpoint', phase: 'install', next: 'provision' });

    s = startPhase('provision');
    s = report(s, { event: 'start', step: 0, kind: 'windowsUpdate', round: 0 });
    s = report(s, { event: 'round', step: 0, round: 0, output: 'KB1' });
    assert.deepEqual(afterStop(s, 'restart'), { kind: 'boot' });
    s = report(s, { event: 'end', step: 0, ok: true, output: 'no update left' });
    s = report(s, { event: 'provisioned' });
    assert.deepEqual(afterStop(s, 'restart'), { kind: 'checkpoint', phase: 'provision', next: 'generalize' });

    s = startPhase('generalize');
    s = report(s, { event: 'generalize' });
    assert.deepEqual(afterStop(s, 'poweroff'), { kind: 'capture' });
  });

  test('a failed step, an early power-off, a restart during Sysprep and QEMU ending all fail the build', () => {
    const failed = afterReport(startPhase('provision'), {
      event: 'end',
      step: 2,
      ok: false,
      output: 'line 1\nInstall-WindowsFeature failed: 1\n',
    });
    assert.equal(failed.fail, 'provision step 3 failed: Install-WindowsFeature failed: 1');

    const early = afterStop(startPhase('install'), 'poweroff');
    assert.ok(early.kind === 'fail');
    assert.match(early.message, /powered off during install, before it was done/);

    const notEnded = afterStop(startPhase('generalize'), 'poweroff');
    assert.ok(notEnded.kind === 'fail');

    const sysprep = afterStop({ phase: 'generalize', ending: true }, 'restart');
    assert.ok(sysprep.kind === 'fail');
    assert.match(sysprep.message, /restarted during Sysprep/);

    const ended = afterStop(startPhase('provision'), 'ended');
    assert.ok(ended.kind === 'fail');
    assert.match(ended.message, /QEMU ended on its own during provision/);
  });

  test('a report that ends another phase does not end this one', () => {
    let s = startPhase('install');
    s = report(s, { event: 'provisioned' });
    s = report(s, { event: 'generalize' });
    assert.deepEqual(afterStop(s, 'restart'), { kind: 'boot' });
  });
});
