import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseWimlibProgress } from './wimlib-progress.ts';

// Lines as wimlib-imagex 1.13.5 printed them here (split on \r).
const MiB = 1024 * 1024;

test('progress lines of capture, apply, verify, integrity and split become byte events', () => {
  assert.deepEqual(parseWimlibProgress('Archiving file data: 12 MiB of 19 MiB (63%) done'), {
    phase: 'Archiving file data',
    done: 12 * MiB,
    total: 19 * MiB,
    unit: 'bytes',
  });
  assert.deepEqual(parseWimlibProgress('Extracting file data: 0 MiB of 19 MiB (0%) done'), {
    phase: 'Extracting file data',
    done: 0,
    total: 19 * MiB,
    unit: 'bytes',
  });
  assert.deepEqual(parseWimlibProgress('Verifying file data: 19 MiB of 19 MiB (100%) done'), {
    phase: 'Verifying file data',
    done: 19 * MiB,
    total: 19 * MiB,
    unit: 'bytes',
  });
  assert.deepEqual(
    parseWimlibProgress('Verifying integrity of "/tmp/wt/b.wim": 10 MiB of 19 MiB (52%) done'),
    { phase: 'Verifying integrity', done: 10 * MiB, total: 19 * MiB, unit: 'bytes' },
  );
  assert.deepEqual(parseWimlibProgress('Calculating integrity table for WIM: 0 MiB of 19 MiB (0%) done'), {
    phase: 'Calculating integrity table for WIM',
    done: 0,
    total: 19 * MiB,
    unit: 'bytes',
  });
  assert.deepEqual(parseWimlibProgress('Splitting WIM: 32 KiB of 49 KiB (65%) written, part 2 of 2'), {
    phase: 'Splitting WIM',
    done: 32 * 1024,
    total: 49 * 1024,
    unit: 'bytes',
  });
  assert.deepEqual(parseWimlibProgress('Archiving file data: 3 bytes of 6 bytes (50%) done'), {
    phase: 'Archiving file data',
    done: 3,
    total: 6,
    unit: 'bytes',
  });
});

test('a rounded-down amount is refined by the percentage, never past the total', () => {
  const event = parseWimlibProgress('Archiving file data: 0 GiB of 2 GiB (50%) done');
  assert.equal(event?.done, 1024 * MiB);
  assert.equal(parseWimlibProgress('Archiving file data: 2 GiB of 2 GiB (100%) done')?.done, 2048 * MiB);
});

test('metadata verification counts images', () => {
  assert.deepEqual(parseWimlibProgress('Verifying metadata for image 1 of 2'), {
    phase: 'Verifying metadata',
    done: 1,
    total: 2,
    unit: 'items',
  });
});

test('other lines are not progress', () => {
  for (const line of [
    '',
    'Scanning "big"',
    '20 MiB scanned (3 files, 1 directories)    ',
    'Using LZX compression with 2 threads',
    'Done applying WIM image.',
    'Finished splitting "b.wim"',
    '"b.wim" was successfully verified.',
  ]) {
    assert.equal(parseWimlibProgress(line), null, line);
  }
});
