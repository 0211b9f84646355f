// Run inside a network namespace for test/boot/tftp-ipv6.test.ts:
//   node tftp-ipv6-netns.ts ROOT ADDRESS...
// Serves ROOT over TFTP on [::], fetches ROOT/file.bin from each ADDRESS (an IPv6 address, with its
// zone when link-local: fe80::a%va) with curl and with atftp, and prints as one JSON line whether
// each fetch gave the file's bytes back.

import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { startTftpServer } from '../../src/boot/tftp-server.ts';
import { runProgram } from '../../src/engines/run.ts';

const [root = '.', ...addresses] = process.argv.slice(2);
const expected = await readFile(join(root, 'file.bin'));
const server = await startTftpServer({ root, host: '::', port: 0 });
const out = join(root, '..', 'fetched.bin');
/** Whether `client` with `args` wrote the file's bytes to `out`. */
async function fetches(client: 'curl' | 'atftp', args: string[]): Promise<boolean> {
  await rm(out, { force: true });
  return runProgram(client, args).then(
    async () => (await readFile(out)).equals(expected),
    () => false,
  );
}
const results: Record<string, boolean> = {};
for (const address of addresses) {
  const url = `tftp://[${address.replace('%', '%25')}]:${String(server.port)}/file.bin`;
  results[`curl ${address}`] = await fetches('curl', [
    '-sS',
    '--max-time',
    '10',
    '--tftp-blksize',
    '1024',
    '-o',
    out,
    url,
  ]);
  results[`atftp ${address}`] = await fetches('atftp', [
    ...['--option', 'blksize 1468', '--option', 'windowsize 8'],
    ...['-g', '-r', 'file.bin', '-l', out, address, String(server.port)],
  ]);
}
await server.close();
process.stdout.write(`${JSON.stringify(results)}\n`);
