// A TFTP server in a process of its own, for tests that measure it apart from their clients:
//   node tftp-server-process.ts ROOT [OPTIONS_JSON]
// Serves ROOT on 127.0.0.1 with the options given (TftpServerOptions, as JSON), prints its port,
// and on SIGTERM closes, then prints the most memory its ArrayBuffers (Buffers) held at once, in
// bytes, sampled every 5 ms.

import { startTftpServer } from '../../src/boot/tftp-server.ts';

const [root = '.', json = '{}'] = process.argv.slice(2);
const server = await startTftpServer({ ...(JSON.parse(json) as object), root, port: 0 });
process.stdout.write(`${String(server.port)}\n`);
let peak = 0;
const sampler = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage().arrayBuffers);
}, 5);
process.once('SIGTERM', () => {
  clearInterval(sampler);
  void server.close().then(() => process.stdout.write(`${String(peak)}\n`));
});
