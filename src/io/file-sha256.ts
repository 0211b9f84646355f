// The SHA-256 of a file, read as a stream (never whole in memory).

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** The SHA-256 of the file at `path`, in lowercase hexadecimal. */
export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
