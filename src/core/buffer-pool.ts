// Memory kept for reuse by code that moves large byte runs at high rates (chunks received, chunks
// sent, NBD replies). On a machine where a page fault costs microseconds, new memory for every
// megabyte moved costs more than moving it, and leaves garbage whose collection competes with the
// work. A pool hands out buffers from size classes (four between each power of two and the next,
// so a buffer is at most a quarter larger than asked), takes them back once their bytes are no
// longer needed, and keeps at most a given number of bytes spare: its memory is bounded by what is
// in use plus that.

/** The smallest size class: smaller requests share it. */
const LEAST_CLASS = 64 * 1024;

/** The size of the memory that holds `length` bytes. */
export function sizeClass(length: number): number {
  if (length <= LEAST_CLASS) return LEAST_CLASS;
  const step = 2 ** Math.floor(Math.log2(length)) / 4;
  return Math.ceil(length / step) * step;
}

export class BufferPool {
  readonly #maxSpareBytes: number;
  /** Spare memory by size class. */
  readonly #spare = new Map<number, ArrayBuffer[]>();
  #spareBytes = 0;
  /** Memory handed out and not given back: give() takes back only these, each once. */
  readonly #out = new WeakSet<ArrayBuffer>();

  constructor(maxSpareBytes: number) {
    this.#maxSpareBytes = maxSpareBytes;
  }

  /** A buffer of `length` bytes, not zeroed: its bytes are whatever a previous user left. */
  take(length: number): Buffer {
    const size = sizeClass(length);
    const kept = this.#spare.get(size)?.pop();
    if (kept !== undefined) this.#spareBytes -= size;
    const memory = kept ?? Buffer.allocUnsafeSlow(size).buffer;
    this.#out.add(memory);
    return Buffer.from(memory, 0, length);
  }

  /**
   * Takes back a buffer take() gave, once nothing reads or writes it any more. Anything else (a
   * buffer from elsewhere, one given back already) is left to the garbage collector.
   */
  give(buffer: Uint8Array): void {
    const memory = buffer.buffer;
    if (!(memory instanceof ArrayBuffer) || !this.#out.delete(memory)) return;
    const size = memory.byteLength;
    if (this.#spareBytes + size > this.#maxSpareBytes) return;
    const list = this.#spare.get(size);
    if (list === undefined) this.#spare.set(size, [memory]);
    else list.push(memory);
    this.#spareBytes += size;
  }

  /** Bytes kept spare now. */
  get spareBytes(): number {
    return this.#spareBytes;
  }
}
