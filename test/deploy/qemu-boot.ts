// Boots a kernel and initramfs in QEMU under TCG, the console on the serial line, until the guest
// powers off or reboots (-no-reboot makes both end QEMU) or a hard timeout kills it. The network,
// when asked for, is QEMU's own user-mode one (its DHCP server answers inside QEMU; nothing of the
// host's network is touched). The console is kept in a log file per run.

import { spawn, spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface BootOptions {
  readonly kernel: string;
  readonly initrd: string;
  readonly append: string;
  /** A virtio-net NIC on QEMU's user-mode network; none when false. */
  readonly nic: boolean;
  readonly logFile: string;
  readonly timeoutMs: number;
}

export interface BootResult {
  readonly console: string;
  /** QEMU's exit status; null when the timeout killed it. */
  readonly exitCode: number | null;
  readonly seconds: number;
}

export function qemuUnavailable(): string | null {
  return spawnSync('qemu-system-x86_64', ['--version']).status === 0
    ? null
    : 'qemu-system-x86_64 is not installed (Debian qemu-system-x86)';
}

export async function bootQemu(options: BootOptions): Promise<BootResult> {
  const net = options.nic
    ? ['-netdev', 'user,id=n0', '-device', 'virtio-net-pci,netdev=n0']
    : ['-nic', 'none'];
  const args = [
    ...['-accel', 'tcg', '-m', '1024', '-nographic', '-no-reboot', '-smp', '1'],
    ...['-kernel', options.kernel, '-initrd', options.initrd, '-append', options.append],
    ...net,
  ];
  const started = performance.now();
  const child = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let console = '';
  child.stdout.on('data', (chunk: Buffer) => (console += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (console += chunk.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code));
  });
  clearTimeout(timer);
  await mkdir(dirname(options.logFile), { recursive: true });
  await writeFile(options.logFile, console);
  return { console, exitCode, seconds: (performance.now() - started) / 1000 };
}
