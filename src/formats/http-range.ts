// The HTTP Range request header (RFC 9110 §14.1.2 byte ranges, §14.2 Range) for one
// representation of `size` bytes. Only single byte ranges are served: a multipart/byteranges answer
// (§14.6) would let one small request ask for the same bytes many times over, and no client of
// winsmith (pull, iPXE) asks for several at once. So:
//   - no header, or a unit other than bytes: null, the whole representation (§14.2 lets a server
//     ignore a Range it does not understand);
//   - one satisfiable range: its first and last byte, the last one cut to the end;
//   - anything else under the bytes unit (several ranges, a start past the end, an inverted range,
//     a zero-length suffix, bad syntax): 'unsatisfiable', answered 416 with `Content-Range: bytes */SIZE`.

export interface ByteRange {
  readonly start: number;
  /** The last byte, included. */
  readonly end: number;
}

export type RangeRequest = ByteRange | 'unsatisfiable' | null;

export function parseRangeHeader(header: string | undefined, size: number): RangeRequest {
  if (header === undefined) return null;
  const value = header.trim();
  if (!/^bytes\s*=/i.test(value)) return null;
  const m = /^bytes\s*=\s*(\d*)-(\d*)\s*$/i.exec(value);
  if (m === null) return 'unsatisfiable';
  const [, first = '', last = ''] = m;
  if (first === '' && last === '') return 'unsatisfiable';
  if (first === '') {
    const suffix = Number(last);
    if (!Number.isSafeInteger(suffix) || suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (!Number.isSafeInteger(start) || start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}

/** The Content-Range of a 206 answer, or of a 416 answer when `range` is null. */
export function contentRange(range: ByteRange | null, size: number): string {
  return range === null ? `bytes */${size}` : `bytes ${range.start}-${range.end}/${size}`;
}
