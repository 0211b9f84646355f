// Random access to a big input without reading all of it: parsers of large files take a ByteSource
// and ask for the ranges they need (the wimboot way: a read(offset, length) callback, no I/O inside).

import { FormatError } from './errors.ts';

export interface ByteSource {
  readonly size: number;
  /** Exactly `length` bytes at `offset`; throws FormatError when the range is past the end. */
  read(offset: number, length: number): Promise<Uint8Array>;
}

export function checkRange(size: number, offset: number, length: number, what: string): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new FormatError(`${what}: offset ${offset} / length ${length} is not a valid range`);
  }
  if (offset + length > size) {
    throw new FormatError(
      `${what}: ${length} bytes at offset ${offset} go past the end of the input (${size} bytes)`,
      {
        offset,
      },
    );
  }
}

export function bytesSource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.byteLength,
    read(offset, length) {
      checkRange(bytes.byteLength, offset, length, 'read');
      return Promise.resolve(bytes.subarray(offset, offset + length));
    },
  };
}
