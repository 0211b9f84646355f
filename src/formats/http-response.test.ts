import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { AppError } from '../core/errors.ts';
import { HttpResponseReader, MAX_HEAD_BYTES, type BodyLimits } from './http-response.ts';

const LIMITS: BodyLimits = { ok: 1024, other: 64 };
const text = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Reads `pieces` in order; returns the reader and the bytes left over after the answer. */
function read(pieces: readonly (string | Uint8Array)[], limits = LIMITS): [HttpResponseReader, number] {
  const reader = new HttpResponseReader(limits);
  let left = 0;
  for (const piece of pieces) {
    const bytes = typeof piece === 'string' ? text(piece) : piece;
    left += bytes.byteLength - reader.push(bytes);
  }
  return [reader, left];
}

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof AppError, String(e));
    return e.code;
  }
  return 'none';
}

test('a Content-Length body is read whole, in one piece or many, and the connection kept', () => {
  const answer =
    'HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 5\r\n\r\nhello';
  const [whole] = read([answer]);
  assert.equal(whole.done, true);
  assert.equal(whole.status, 200);
  assert.equal(whole.headers.get('content-type'), 'application/octet-stream');
  assert.equal(new TextDecoder().decode(whole.body), 'hello');
  assert.equal(whole.keepAlive, true);
  const [bytewise] = read(Array.from(text(answer), (byte) => Uint8Array.of(byte)));
  assert.equal(bytewise.done, true);
  assert.equal(new TextDecoder().decode(bytewise.body), 'hello');
});

test('the bytes after the answer are not taken: they are not part of it', () => {
  const [reader, left] = read(['HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200']);
  assert.equal(reader.done, true);
  assert.equal(left, 'HTTP/1.1 200'.length);
});

test('a chunked body is decoded, with extensions and trailers', () => {
  const [reader] = read([
    'HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n',
    '4;name=value\r\n{"er\r\n',
    'A\r\nror":"no"}\r\n0\r\nX-Trailer: 1\r\n\r\n',
  ]);
  assert.equal(reader.done, true);
  assert.equal(reader.status, 404);
  assert.equal(new TextDecoder().decode(reader.body), '{"error":"no"}');
});

test('without a length the body lasts until the connection closes, which ends the connection', () => {
  const [reader] = read(['HTTP/1.1 500 Oops\r\n\r\nsomething']);
  assert.equal(reader.done, false);
  assert.equal(reader.keepAlive, false);
  reader.close();
  assert.equal(reader.done, true);
  assert.equal(new TextDecoder().decode(reader.body), 'something');
});

test('interim answers are skipped; 204 has no body; Connection: close and HTTP/1.0 end the connection', () => {
  const [interim] = read(['HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx']);
  assert.equal(interim.status, 200);
  assert.equal(interim.done, true);
  const [empty] = read(['HTTP/1.1 204 No Content\r\n\r\n']);
  assert.equal(empty.done, true);
  assert.equal(empty.body.byteLength, 0);
  const [closing] = read(['HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\nContent-Length: 0\r\n\r\n']);
  assert.equal(closing.keepAlive, false);
  const [old] = read(['HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n']);
  assert.equal(old.keepAlive, false);
});

test('a body past its bound is refused before its bytes are kept, for 2xx and other answers apart', () => {
  assert.equal(
    code(() => read(['HTTP/1.1 200 OK\r\nContent-Length: 1025\r\n\r\n'])),
    'LIMIT_EXCEEDED',
  );
  assert.equal(
    code(() => read(['HTTP/1.1 200 OK\r\nContent-Length: 1024\r\n\r\n'])),
    'none',
  );
  assert.equal(
    code(() => read(['HTTP/1.1 500 x\r\nContent-Length: 65\r\n\r\n'])),
    'LIMIT_EXCEEDED',
  );
  assert.equal(
    code(() => read(['HTTP/1.1 500 x\r\nTransfer-Encoding: chunked\r\n\r\n41\r\n'])),
    'LIMIT_EXCEEDED',
  );
  assert.equal(
    code(() => read(['HTTP/1.1 500 x\r\n\r\n', 'y'.repeat(65)])),
    'LIMIT_EXCEEDED',
  );
  assert.equal(
    code(() => read([`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(MAX_HEAD_BYTES)}`])),
    'LIMIT_EXCEEDED',
  );
});

test('what is not an HTTP/1.1 answer is refused with what was found', () => {
  for (const answer of [
    'SSH-2.0-OpenSSH_9.2\r\n\r\n',
    'HTTP/2 200\r\n\r\n',
    'HTTP/1.1 200 OK\nContent-Length: 0\n\n',
    'HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\n',
    'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n',
    'HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n',
  ]) {
    assert.equal(
      code(() => read([answer])),
      'FORMAT_INVALID',
      answer,
    );
  }
});

test('a connection closed before the answer ends is an error, and says whether any byte came', () => {
  const [none] = read([]);
  assert.equal(none.started, false);
  assert.throws(() => none.close(), /never came/);
  const [cut] = read(['HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc']);
  assert.equal(cut.started, true);
  assert.throws(() => cut.close(), /cut off after 3 bytes/);
});

test('fuzz: any bytes, in any pieces, end in an answer or one AppError, never a crash or a body past its bound', () => {
  const answer = fc.oneof(
    fc.uint8Array({ maxLength: 300 }),
    fc
      .tuple(
        fc.constantFrom(
          'HTTP/1.1 200 OK\r\n',
          'HTTP/1.1 404 N\r\n',
          'HTTP/1.0 100 C\r\n\r\nHTTP/1.1 206 P\r\n',
        ),
        fc.constantFrom(
          'Content-Length: 3\r\n',
          'Transfer-Encoding: chunked\r\n',
          '',
          'Content-Length: 99999\r\n',
        ),
        fc.string({ maxLength: 120 }),
      )
      .map(([status, framing, rest]) => text(`${status}${framing}\r\n${rest}`)),
  );
  fc.assert(
    fc.property(answer, fc.array(fc.nat(300), { maxLength: 6 }), (bytes, cuts) => {
      const reader = new HttpResponseReader(LIMITS);
      const points = [
        0,
        ...cuts.map((c) => c % (bytes.byteLength + 1)).sort((a, b) => a - b),
        bytes.byteLength,
      ];
      try {
        for (let i = 0; i + 1 < points.length; i++) {
          reader.push(bytes.subarray(points[i] ?? 0, points[i + 1] ?? 0));
          if (reader.done) break;
        }
        reader.close();
      } catch (e) {
        assert.ok(e instanceof AppError, String(e));
      }
      assert.ok(reader.body.byteLength <= (reader.status < 300 ? LIMITS.ok : LIMITS.other));
    }),
    { numRuns: 3000 },
  );
});
