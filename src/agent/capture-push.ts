// A capture's WIM pushed as wimcapture writes it: the stream is cut into chunks the way the
// repository cuts them (content-defined, src/store/chunker.ts), and in batches the server is asked
// which chunks it lacks (those of images under the capture's name it has already: a second capture
// of a machine sends mostly what changed), then sent, a few at once. One batch travels while the
// next is cut, so wimcapture waits only when the network is slower than its compression. Each call
// is tried again after a cut connection. The manifest, made last, is what the commit sends. Each
// chunk's memory is reused once the server has it (or had it already): a capture of gigabytes
// makes no garbage beyond its first batches.

import { createHash } from 'node:crypto';
import { BufferPool } from '../core/buffer-pool.ts';
import { ConcurrencyLimit } from '../core/concurrency-limit.ts';
import { MAX_CAPTURE_QUERY } from '../deploy/agent-protocol.ts';
import { chunkStream, type Chunk, type ChunkerOptions } from '../store/chunker.ts';
import { MEDIA_TYPES, type Manifest, type ManifestChunk } from '../store/manifest.ts';

/** The calls a capture's push makes (AgentClient's). */
export interface CapturePushClient {
  captureMissing(digests: readonly string[]): Promise<string[]>;
  captureChunk(digest: string, bytes: Uint8Array): Promise<void>;
}

export interface CapturePushOptions {
  readonly client: CapturePushClient;
  readonly chunking: ChunkerOptions;
  readonly retrying: <T>(what: string, fn: () => Promise<T>) => Promise<T>;
  /** Throws when the capture was stopped (cancelled on the server). */
  readonly checkStopped: () => void;
}

export interface CapturePushResult {
  readonly manifest: Manifest;
  readonly sentChunks: number;
  readonly sentBytes: number;
}

/** Bytes of chunks asked about at once. */
const BATCH_BYTES = 32 * 1024 * 1024;
/** Chunks sent at once. */
const SENDS_AT_ONCE = 4;

export async function pushCaptureStream(
  source: AsyncIterable<Uint8Array>,
  options: CapturePushOptions,
): Promise<CapturePushResult> {
  const { client, retrying } = options;
  const hash = createHash('sha256');
  const chunks: ManifestChunk[] = [];
  const sends = new ConcurrencyLimit(SENDS_AT_ONCE);
  // A batch being cut and one being sent.
  const memory = new BufferPool(2 * BATCH_BYTES);
  let size = 0;
  let sentChunks = 0;
  let sentBytes = 0;

  const sendBatch = async (batch: readonly Chunk[]): Promise<void> => {
    const missing = new Set(
      await retrying('asking the server which chunks it lacks', () =>
        client.captureMissing([...new Set(batch.map((c) => c.digest))]),
      ),
    );
    const toSend: Chunk[] = [];
    for (const c of batch) {
      if (missing.delete(c.digest)) toSend.push(c);
      else memory.give(c.bytes);
    }
    await Promise.all(
      toSend.map((c) =>
        sends.run(async () => {
          await retrying(`sending chunk ${c.digest.slice(0, 12)}`, () =>
            client.captureChunk(c.digest, c.bytes),
          );
          memory.give(c.bytes);
        }),
      ),
    );
    sentChunks += toSend.length;
    sentBytes += toSend.reduce((n, c) => n + c.size, 0);
  };

  let batch: Chunk[] = [];
  let batchBytes = 0;
  let inFlight: Promise<void> = Promise.resolve();
  let failure: { error: unknown } | null = null;
  const throwIfFailed = (): void => {
    if (failure !== null) throw failure.error;
  };
  const flush = async (): Promise<void> => {
    await inFlight;
    throwIfFailed();
    options.checkStopped();
    const sending = batch;
    batch = [];
    batchBytes = 0;
    inFlight = sendBatch(sending).catch((error: unknown) => {
      failure = { error };
    });
  };
  for await (const chunk of chunkStream(source, options.chunking, memory)) {
    hash.update(chunk.bytes);
    chunks.push({ digest: chunk.digest, size: chunk.size });
    size += chunk.size;
    batch.push(chunk);
    batchBytes += chunk.size;
    if (batchBytes >= BATCH_BYTES || batch.length >= MAX_CAPTURE_QUERY) await flush();
  }
  await flush();
  await inFlight;
  throwIfFailed();
  return {
    manifest: { schemaVersion: 1, mediaType: MEDIA_TYPES.wim, size, sha256: hash.digest('hex'), chunks },
    sentChunks,
    sentBytes,
  };
}
