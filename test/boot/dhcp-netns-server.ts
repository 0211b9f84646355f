// Runs winsmith's DHCP server inside a network namespace for test/boot/dhcp-server.test.ts:
//   node dhcp-netns-server.ts MODE INTERFACE
// Prints "ready" when bound, the log as JSON lines on stderr, and stops on SIGTERM.

import { startDhcpServer } from '../../src/boot/dhcp-server.ts';
import { openDatabase } from '../../src/db/database.ts';
import { MachineStore } from '../../src/machines/machine-store.ts';

const mode = process.argv[2] === 'full' ? 'full' : 'proxy';
const iface = process.argv[3] ?? 'eth0';
const stop = new AbortController();
const server = await startDhcpServer({
  mode,
  interface: iface,
  bootFiles: { bios: 'undionly.kpxe', uefi: 'ipxe.efi' },
  httpBase: 'http://10.123.0.1:8080',
  range: {
    rangeStart: '10.123.0.100',
    rangeEnd: '10.123.0.110',
    subnetMask: '255.255.255.0',
    leaseSeconds: 600,
  },
  leases: new MachineStore(await openDatabase({ kind: 'sqlite', path: ':memory:' })),
  signal: stop.signal,
  log: {
    log: (level, msg, fields) => process.stderr.write(`${JSON.stringify({ level, msg, ...fields })}\n`),
  },
});
process.on('SIGTERM', () => stop.abort());
process.stdout.write(`ready ${server.serverAddress}\n`);
