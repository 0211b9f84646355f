// End to end with real firmware: inside a private network namespace, the real `winsmith server`
// (DHCP, TFTP and HTTP on the bridge) boots diskless QEMU VMs — SeaBIOS with the e1000's iPXE ROM, and
// OVMF loading Debian's ipxe.efi over TFTP. Each VM gets an address, fetches its per-machine script
// over HTTP, and proves the script ran by calling back with the nonce of its render (boot check-in);
// `winsmith machines --json` then lists it. Run with winsmith as the only DHCP server (full), as
// proxyDHCP beside Debian's dnsmasq giving the addresses (proxy), and with dnsmasq giving the boot
// options itself (winsmith's DHCP off). Logs stay in the run's directory.

import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { ipxeScriptUrl } from '../../../src/boot/boot-url.ts';
import { netnsUnavailable } from '../../../src/engines/netns.ts';
import { vmUnavailable, type VmFirmware } from '../../../src/engines/qemu-system.ts';
import type { LabNetwork } from '../../../src/lab/lab-network.ts';
import { LabVm } from '../../../src/lab/lab-vm.ts';
import { waitFor } from '../../../src/io/wait-for.ts';
import { runWinsmith } from '../../helpers/cli.ts';
import { withLabNetwork } from '../../helpers/lab-network.ts';

const MAIN = fileURLToPath(new URL('../../../src/cli/main.ts', import.meta.url));
/** TCG boots take 20–60 s alone; two VMs at once on two cores, with slack. */
const BOOT_TIMEOUT_MS = 300_000;
const HTTP_PORT = 8080;

/** Diskless VMs; iPXE needs little memory, OVMF a little more. */
const CASES: readonly { name: string; firmware: VmFirmware; memoryMiB: number }[] = [
  { name: 'bios', firmware: 'bios', memoryMiB: 256 },
  { name: 'uefi', firmware: 'uefi', memoryMiB: 512 },
];

interface LogLine {
  readonly msg?: unknown;
  readonly mac?: unknown;
  readonly nonce?: unknown;
  readonly action?: unknown;
  readonly file?: unknown;
}

function logLines(text: string): LogLine[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as LogLine];
      } catch {
        return [];
      }
    });
}

async function skipReason(): Promise<string | null> {
  const ns = await netnsUnavailable();
  if (ns !== null) return ns;
  for (const c of CASES) {
    const why = await vmUnavailable(c.firmware);
    if (why !== null) return why;
  }
  return null;
}

const skip = await skipReason();

/**
 * Who gives addresses and boot options: winsmith's DHCP alone (full); dnsmasq the addresses and
 * winsmith's proxyDHCP the boot options (proxy); dnsmasq both, pointed at winsmith's TFTP and HTTP
 * with the script URL of src/boot/boot-url.ts (dnsmasq).
 */
type DhcpSetup = 'full' | 'proxy' | 'dnsmasq';

function dnsmasqArgs(ns: LabNetwork, setup: DhcpSetup): string[] {
  const args = [
    '--port=0',
    `--interface=${ns.bridge}`,
    '--bind-interfaces',
    `--dhcp-range=${ns.host(50)},${ns.host(99)},1h`,
    '--no-daemon',
    '--log-dhcp',
    `--dhcp-leasefile=${join(ns.dir, 'dnsmasq.leases')}`,
    '--conf-file=/dev/null',
  ];
  if (setup !== 'dnsmasq') return args;
  const script = ipxeScriptUrl(`http://${ns.address}:${HTTP_PORT}`);
  return [
    ...args,
    '--dhcp-userclass=set:ipxe,iPXE',
    '--dhcp-match=set:efi64,option:client-arch,7',
    '--dhcp-match=set:efi64,option:client-arch,9',
    `--dhcp-boot=tag:ipxe,${script}`,
    `--dhcp-boot=tag:!ipxe,tag:efi64,ipxe.efi,,${ns.address}`,
    `--dhcp-boot=tag:!ipxe,tag:!efi64,undionly.kpxe,,${ns.address}`,
  ];
}

function dhcpArgs(ns: LabNetwork, setup: DhcpSetup): string[] {
  if (setup === 'dnsmasq') return [];
  const args = ['--dhcp', setup, '--interface', ns.bridge];
  return setup === 'full' ? [...args, '--dhcp-range', `${ns.host(100)}-${ns.host(199)}`] : args;
}

async function bootAll(ns: LabNetwork, setup: DhcpSetup): Promise<void> {
  const data = join(ns.dir, 'data');
  const bootRoot = join(ns.dir, 'boot-root');
  await mkdir(bootRoot);
  if (setup !== 'full') ns.start('dnsmasq', dnsmasqArgs(ns, setup), { log: 'dnsmasq' });
  const server = ns.start(
    process.execPath,
    [
      MAIN,
      'server',
      '--data',
      data,
      '--listen',
      `${ns.address}:${HTTP_PORT}`,
      ...dhcpArgs(ns, setup),
      '--tftp',
      `${ns.address}:69`,
      '--boot-root',
      bootRoot,
    ],
    { log: 'winsmith-server' },
  );
  await waitFor(
    'the server to listen',
    () => {
      if (!server.running()) throw new Error(`winsmith server exited:\n${server.output()}`);
      return logLines(server.output()).some((l) => l.msg === 'listening') ? true : null;
    },
    { timeoutMs: 30_000 },
  );

  const vms: LabVm[] = [];
  for (const c of CASES) vms.push(await LabVm.create(ns, { ...c, disk: null }));
  const consoles = vms.map((vm) => vm.powerOn());
  try {
    await Promise.all(
      vms.map((vm) =>
        waitFor(
          `${vm.name} (${vm.mac}) to check in`,
          () => {
            const lines = logLines(server.output());
            const rendered = lines
              .filter((l) => l.msg === 'boot script' && l.mac === vm.mac)
              .map((l) => l.nonce);
            const checkIn = lines.find(
              (l) => l.msg === 'boot check-in' && l.mac === vm.mac && rendered.includes(l.nonce),
            );
            return checkIn ?? null;
          },
          { timeoutMs: BOOT_TIMEOUT_MS, everyMs: 1000 },
        ),
      ),
    );
  } catch (e) {
    const logs = vms.map(
      (vm, i) => `--- ${vm.name} serial (${vm.console}):\n${consoles[i]?.output().slice(-3000) ?? ''}`,
    );
    throw new Error(
      `${e instanceof Error ? e.message : String(e)}\n${logs.join('\n')}\n--- server:\n${server.output().slice(-4000)}`,
      { cause: e },
    );
  }
  for (const vm of vms) await vm.powerOff();
  await server.stop(10_000);
  // OVMF took the PXE offer and loaded ipxe.efi over TFTP, not through its UEFI HTTP boot fallback
  // (which it used when it refused full mode's offer with PXE-E16).
  assert.ok(
    logLines(server.output()).some((l) => l.msg === 'TFTP transfer done' && l.file === 'ipxe.efi'),
    `no TFTP transfer of ipxe.efi:\n${server.output().slice(-4000)}`,
  );

  const listed = await runWinsmith(['machines', '--json', '--repo', data]);
  assert.equal(listed.code, 0, listed.stderr);
  const machines = JSON.parse(listed.stdout) as {
    mac: string;
    smbiosUuid: string | null;
    platform: string | null;
    manufacturer: string | null;
    product: string | null;
    inventory: { checkIn?: unknown };
  }[];
  for (const vm of vms) {
    const m = machines.find((x) => x.mac === vm.mac);
    assert.ok(m, `${vm.mac} not registered: ${listed.stdout}`);
    assert.equal(m.smbiosUuid, vm.uuid);
    assert.equal(m.platform, vm.firmware === 'uefi' ? 'efi' : 'pcbios');
    assert.notEqual(m.inventory.checkIn, undefined);
    assert.equal(m.manufacturer, 'QEMU');
    // SMBIOS product text as QEMU sets it, '+' and parentheses included (iPXE's uristring encoding)
    assert.match(
      m.product ?? '',
      vm.firmware === 'uefi' ? /^Standard PC \(Q35 \+ ICH9/ : /^Standard PC \(i440FX \+ PIIX/,
    );
  }
}

/**
 * A setup that does not boot yet, with what was seen: the test is kept and skipped with the reason
 * until the fix lands, so that it runs again by deleting the entry.
 */
const KNOWN_FAILING: Partial<Record<DhcpSetup, string>> = {};

const SETUPS: readonly [DhcpSetup, string][] = [
  ['full', 'winsmith DHCP (full) gives the addresses and boot options'],
  ['proxy', "dnsmasq gives the addresses, winsmith's proxyDHCP the boot options"],
  ['dnsmasq', "dnsmasq gives addresses and boot options pointing at winsmith's TFTP and HTTP"],
];

for (const [setup, how] of SETUPS) {
  test(
    `${how}: BIOS and UEFI VMs boot iPXE, run their per-machine script and check in`,
    { skip: skip ?? KNOWN_FAILING[setup] ?? false, timeout: 420_000 },
    () => withLabNetwork((ns) => bootAll(ns, setup)),
  );
}
