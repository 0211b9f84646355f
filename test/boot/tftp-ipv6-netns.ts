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
const results: Record<string, boolean> = {};
const out = join(root, '..', 'fetched.bin');
for (const address of addresses) {
  const url = `tftp://[${address.replace('%', '%25')}]:${String(server.port)}/file.bin`;
  await rm(out, { force: true });
  const curl = await runProgram('curl', [
    '-sS',
    '--max-time',
    '10',
    '--tftp-blksize',
    '1024',
    '-o',
    out,
    url,
  ]).then(
    async () => (await readFile(out)).equals(expected),
    () => false,
  );
  results[`curl ${address}`] = curl;
  await rm(out, { force: true });
  const atftp = await runProgram('atftp', [
    '--option',
    'blksize 1468',
    '--option',
    'windowsize 8',
    '-g',
    '-r',
    'file.bin',
    '-l',
    out,
    address,
    String(server.port),
  ]).then(
    async () => (await readFile(out)).equals(expected),
    () => false,
  );
  results[`atftp ${address}`] = atftp;
}
await server.close();
process.stdout.write(`${JSON.stringify(results)}\n`);
