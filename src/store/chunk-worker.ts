// A thread of parallel-chunker.ts: cuts the segments it is sent and hashes their chunks, or keeps
// the whole-content hashes of streams (the segments' new bytes, in order); answers in the order the
// requests came.

import { createHash, type Hash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { AppError } from '../core/errors.ts';
import { cutSegment, type ThreadRequest } from './parallel-chunker.ts';

const port = parentPort;
if (port === null) {
  throw new AppError('INTERNAL', 'chunk-worker.ts runs as a worker thread, not as a program', {
    hint: 'start it through chunkBatches()',
  });
}
const streams = new Map<number, Hash>();
port.on('message', (request: ThreadRequest) => {
  switch (request.kind) {
    case 'cut':
      port.postMessage(cutSegment(request));
      break;
    case 'hash': {
      const hash = streams.get(request.stream) ?? createHash('sha256');
      streams.set(request.stream, hash);
      hash.update(new Uint8Array(request.buffer, request.start, request.end - request.start));
      port.postMessage(null);
      break;
    }
    case 'digest':
      port.postMessage((streams.get(request.stream) ?? createHash('sha256')).digest('hex'));
      streams.delete(request.stream);
      break;
  }
});
