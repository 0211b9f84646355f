// The QMP client against a real QEMU (TCG, no disk, no network): it negotiates, runs commands,
// reports a command QEMU refuses, takes a PNG screenshot of the firmware's screen, and sees the
// VM's end.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { QmpClient, type QmpEvent } from '../../src/engines/qmp.ts';
import { withTempDir } from '../../src/io/output.ts';

const missing = spawnSync('qemu-system-x86_64', ['--version']).error !== undefined;

describe(
  'QMP',
  { skip: missing ? 'qemu-system-x86_64 is not installed (Debian qemu-system-x86)' : false },
  () => {
    test('commands, errors, a screenshot and the end of the VM', { timeout: 60_000 }, async () => {
      await withTempDir(async (dir) => {
        const socket = join(dir, 'qmp.sock');
        const vm = spawn(
          'qemu-system-x86_64',
          [
            ...['-machine', 'q35,accel=tcg', '-display', 'none', '-vga', 'std', '-nic', 'none', '-m', '64'],
            ...['-qmp', `unix:${socket},server=on,wait=off`],
          ],
          { stdio: 'ignore' },
        );
        const exited = once(vm, 'exit');
        try {
          const qmp = await QmpClient.connect(socket);
          const status = await qmp.execute<{ status: string }>('query-status');
          assert.equal(status.status, 'running');
          await assert.rejects(qmp.execute('no-such-command'), /QMP no-such-command: .*not been found/);

          const png = join(dir, 'screen.png');
          await qmp.screenshot(png);
          const bytes = await readFile(png);
          assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
          const width = bytes.readUInt32BE(16);
          const height = bytes.readUInt32BE(20);
          assert.ok(width >= 320 && height >= 200, `${width}x${height}`);

          const events: QmpEvent[] = [];
          qmp.onEvent((e) => events.push(e));
          await qmp.execute('quit');
          await qmp.closed;
          await exited;
          assert.ok(
            events.some((e) => e.event === 'SHUTDOWN'),
            events.map((e) => e.event).join(', '),
          );
          await assert.rejects(qmp.execute('query-status'), /the QMP connection (closed|failed)/);
        } finally {
          vm.kill('SIGKILL');
        }
      });
    });

    test('a socket nobody serves is an error after the timeout', async () => {
      await withTempDir(async (dir) => {
        await assert.rejects(
          QmpClient.connect(join(dir, 'none.sock'), 300),
          /cannot open QMP at .*none\.sock/,
        );
      });
    });
  },
);
