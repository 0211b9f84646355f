// BlobStore on S3-compatible object storage (AWS S3, MinIO, Ceph RGW) through @aws-sdk/client-s3.
// A key is the object '<prefix><key>' in one bucket; S3 makes each PutObject atomic, so a blob is
// whole or absent. Chunks are at most a few MiB: one PutObject each, no multipart upload. Checksums
// beyond what the service requires are off, as some S3-compatible servers refuse them; the chunk
// store checks every chunk's SHA-256 itself.

import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { AppError } from '../core/errors.ts';
import {
  blobNotFound,
  checkBlobKey,
  checkBlobRange,
  type BlobInfo,
  type BlobRange,
  type BlobStore,
} from './blob-store.ts';

export interface S3BlobStoreConfig {
  /** The service URL, e.g. http://127.0.0.1:9000 for MinIO; AWS when absent. */
  readonly endpoint?: string;
  readonly region: string;
  readonly bucket: string;
  /** Prepended to every key, e.g. 'winsmith/'. */
  readonly prefix?: string;
  /** Static credentials; without them the SDK's default chain (environment, profile, instance role). */
  readonly accessKeyId?: string;
  readonly secretAccessKey?: string;
  /** Bucket in the path rather than the host name (MinIO, Ceph, s3rver); default true with an endpoint. */
  readonly forcePathStyle?: boolean;
}

interface S3ErrorShape {
  readonly name?: string;
  readonly $metadata?: { readonly httpStatusCode?: number };
}

function isMissing(e: unknown): boolean {
  const err = e as S3ErrorShape | null;
  return (
    err !== null &&
    typeof err === 'object' &&
    (err.name === 'NoSuchKey' || err.name === 'NotFound' || err.$metadata?.httpStatusCode === 404)
  );
}

/** The endpoint without user information, for messages. */
function describeEndpoint(endpoint: string | undefined): string {
  if (endpoint === undefined) return 's3:/';
  try {
    const url = new URL(endpoint);
    url.username = '';
    url.password = '';
    return url.origin;
  } catch {
    return 'an S3 endpoint';
  }
}

export class S3BlobStore implements BlobStore {
  readonly location: string;
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #prefix: string;

  constructor(config: S3BlobStoreConfig) {
    this.#bucket = config.bucket;
    this.#prefix = config.prefix ?? '';
    this.location = `${describeEndpoint(config.endpoint)}/${config.bucket}/${this.#prefix}`;
    this.#client = new S3Client({
      region: config.region,
      ...(config.endpoint === undefined ? {} : { endpoint: config.endpoint }),
      forcePathStyle: config.forcePathStyle ?? config.endpoint !== undefined,
      ...(config.accessKeyId !== undefined && config.secretAccessKey !== undefined
        ? { credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey } }
        : {}),
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  #error(what: string, key: string, e: unknown): AppError {
    const detail = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    return new AppError('IO_ERROR', `cannot ${what} blob ${key} in ${this.location}: ${detail}`, {
      hint: 'check the S3 endpoint, bucket, credentials and permissions in the configuration',
      cause: e,
    });
  }

  #objectKey(key: string): string {
    checkBlobKey(key);
    return `${this.#prefix}${key}`;
  }

  async has(key: string): Promise<boolean> {
    return (await this.size(key)) !== null;
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    const Key = this.#objectKey(key);
    try {
      await this.#client.send(
        new PutObjectCommand({ Bucket: this.#bucket, Key, Body: bytes, ContentLength: bytes.length }),
      );
    } catch (e) {
      throw this.#error('store', key, e);
    }
  }

  async get(key: string): Promise<Uint8Array> {
    const Key = this.#objectKey(key);
    try {
      const out = await this.#client.send(new GetObjectCommand({ Bucket: this.#bucket, Key }));
      if (out.Body === undefined) return new Uint8Array(0);
      return await out.Body.transformToByteArray();
    } catch (e) {
      if (isMissing(e)) throw blobNotFound(key, this.location);
      throw this.#error('read', key, e);
    }
  }

  getStream(key: string, range?: BlobRange): Readable {
    const Key = this.#objectKey(key);
    const read = async function* (this: S3BlobStore): AsyncGenerator<Uint8Array> {
      if (range !== undefined) {
        const size = await this.size(key);
        if (size === null) throw blobNotFound(key, this.location);
        checkBlobRange(key, range, size);
      }
      let body: unknown;
      let contentRange: string | undefined;
      try {
        const out = await this.#client.send(
          new GetObjectCommand({
            Bucket: this.#bucket,
            Key,
            ...(range === undefined ? {} : { Range: `bytes=${range.start}-${range.end}` }),
          }),
        );
        body = out.Body;
        contentRange = out.ContentRange;
      } catch (e) {
        if (isMissing(e)) throw blobNotFound(key, this.location);
        throw this.#error('read', key, e);
      }
      if (!(body instanceof Readable)) return;
      if (range !== undefined && contentRange?.startsWith(`bytes ${range.start}-`) !== true) {
        body.destroy();
        throw this.#error(
          'read',
          key,
          new Error(`asked for bytes ${range.start}-${range.end}, got ${contentRange ?? 'the whole object'}`),
        );
      }
      // Some S3-compatible servers send more than asked (s3rver reads 'bytes=0-0' as 'bytes=0-'):
      // the stream ends at the range's end whatever arrives.
      let remaining = range === undefined ? Infinity : range.end - range.start + 1;
      for await (const piece of body) {
        const bytes = piece as Uint8Array;
        if (bytes.length >= remaining) {
          yield bytes.subarray(0, remaining);
          body.destroy();
          return;
        }
        remaining -= bytes.length;
        yield bytes;
      }
    };
    return Readable.from(read.call(this), { objectMode: false });
  }

  async delete(key: string): Promise<void> {
    const Key = this.#objectKey(key);
    try {
      await this.#client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key }));
    } catch (e) {
      if (isMissing(e)) return;
      throw this.#error('delete', key, e);
    }
  }

  async *list(prefix: string): AsyncIterable<string> {
    for await (const info of this.listInfo(prefix)) yield info.key;
  }

  async *listInfo(prefix: string): AsyncIterable<BlobInfo> {
    let token: string | undefined;
    do {
      let page;
      try {
        page = await this.#client.send(
          new ListObjectsV2Command({
            Bucket: this.#bucket,
            Prefix: `${this.#prefix}${prefix}`,
            ...(token === undefined ? {} : { ContinuationToken: token }),
          }),
        );
      } catch (e) {
        throw this.#error('list', `${prefix}*`, e);
      }
      for (const object of page.Contents ?? []) {
        if (object.Key === undefined) continue;
        yield {
          key: object.Key.slice(this.#prefix.length),
          size: object.Size ?? 0,
          modifiedMs: object.LastModified?.getTime() ?? 0,
        };
      }
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  async size(key: string): Promise<number | null> {
    const Key = this.#objectKey(key);
    try {
      const out = await this.#client.send(new HeadObjectCommand({ Bucket: this.#bucket, Key }));
      return out.ContentLength ?? 0;
    } catch (e) {
      if (isMissing(e)) return null;
      throw this.#error('read', key, e);
    }
  }

  /** Closes the client's connections. */
  close(): void {
    this.#client.destroy();
  }
}
