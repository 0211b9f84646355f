// Answers that carry bytes of a file or an image with one HTTP Range (src/formats/http-range.ts):
// the status and headers of a whole (200) or partial (206) answer, and the 416 answer.

import { AppError } from '../core/errors.ts';
import { contentRange, type ByteRange } from '../formats/http-range.ts';
import type { RouteRequest } from './routes.ts';

/** 416 with the JSON error body and a Content-Range of the whole size (RFC 9110 §15.5.17). */
export function rangeNotSatisfiable(r: RouteRequest, size: number): Response {
  const e = new AppError(
    'RANGE_NOT_SATISFIABLE',
    `range '${r.c.req.header('range') ?? ''}' is not one range within ${size} bytes`,
    { hint: 'ask for one range bytes=START-END, bytes=START- or bytes=-SUFFIX within the size' },
  );
  return r.c.json({ error: { code: e.code, message: e.message, hint: e.hint ?? null } }, 416, {
    'content-range': contentRange(null, size),
  });
}

/** The status and headers of the answer of `range` (null: all) of `size` bytes. */
export function bytesAnswer(
  range: ByteRange | null,
  size: number,
): { status: 200 | 206; headers: Record<string, string> } {
  const headers: Record<string, string> = {
    'content-type': 'application/octet-stream',
    'content-length': String(range === null ? size : range.end - range.start + 1),
    'accept-ranges': 'bytes',
  };
  if (range !== null) headers['content-range'] = contentRange(range, size);
  return { status: range === null ? 200 : 206, headers };
}
