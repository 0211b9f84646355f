import assert from 'node:assert/strict';
import { test } from 'node:test';
import { partitionDevice } from './disk-target.ts';

test('partition devices: a "p" after a disk name ending in a digit, as the kernel names them', () => {
  assert.deepEqual(
    [
      partitionDevice('/dev/sda', 3),
      partitionDevice('/dev/vdb', 1),
      partitionDevice('/dev/xvda', 2),
      partitionDevice('/dev/nvme0n1', 3),
      partitionDevice('/dev/mmcblk0', 1),
      partitionDevice('/dev/loop7', 12),
    ],
    ['/dev/sda3', '/dev/vdb1', '/dev/xvda2', '/dev/nvme0n1p3', '/dev/mmcblk0p1', '/dev/loop7p12'],
  );
});
