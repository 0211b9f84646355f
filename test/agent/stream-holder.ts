// A process that opens the image stream of a few random bytes in the directory it is given, prints
// the mounted file's path, and waits to be killed: what the agent is when it dies mid-apply.

import { randomBytes } from 'node:crypto';
import { ImageChunks } from '../../src/agent/image-chunks.ts';
import { openNbdFile } from '../../src/io/nbd-file.ts';
import { sha256Hex } from '../../src/store/manifest.ts';

const dir = process.argv[2];
if (dir === undefined) throw new Error('usage: stream-holder.ts DIR');
const bytes = randomBytes(256 * 1024);
const image = new ImageChunks(
  {
    schemaVersion: 1,
    mediaType: 'application/octet-stream',
    size: bytes.length,
    sha256: sha256Hex(bytes),
    chunks: [{ digest: sha256Hex(bytes), size: bytes.length }],
  },
  () => Promise.resolve(new Uint8Array(bytes)),
);
const stream = await openNbdFile(image, dir, 'image.wim');
process.stdout.write(`${stream.path}\n`);
setInterval(() => undefined, 60_000);
