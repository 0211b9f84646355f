import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { FormatError } from '../core/errors.ts';
import { NBD_ERRORS, NbdServerProtocol, simpleReplyHeader, type NbdAction } from './nbd.ts';

const SIZE = 10 * 1024 * 1024 + 7;

function bytes(...parts: (Uint8Array | number[])[]): Uint8Array {
  const all = parts.flatMap((p) => [...p]);
  return Uint8Array.from(all);
}

function be(value: bigint | number, width: number): number[] {
  const out: number[] = [];
  let v = BigInt(value);
  for (let i = 0; i < width; i++) {
    out.unshift(Number(v & 0xffn));
    v >>= 8n;
  }
  return out;
}

const IHAVEOPT = be(0x49484156454f5054n, 8);

function option(type: number, data: number[] = []): number[] {
  return [...IHAVEOPT, ...be(type, 4), ...be(data.length, 4), ...data];
}

function go(infos: number[] = []): number[] {
  return option(7, [...be(0, 4), ...be(infos.length, 2), ...infos.flatMap((i) => be(i, 2))]);
}

function request(
  type: number,
  handle: number,
  offset: number,
  length: number,
  payload: number[] = [],
): number[] {
  return [
    ...be(0x25609513, 4),
    ...be(0, 2),
    ...be(type, 2),
    ...be(handle, 8),
    ...be(offset, 8),
    ...be(length, 4),
    ...payload,
  ];
}

/** The option replies in `data`: [option, type, data length] each. */
function optionReplies(data: Uint8Array): [number, number, number][] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out: [number, number, number][] = [];
  for (let at = 0; at < data.byteLength;) {
    assert.equal(view.getBigUint64(at), 0x3e889045565a9n);
    const length = view.getUint32(at + 16);
    out.push([view.getUint32(at + 8), view.getUint32(at + 12), length]);
    at += 20 + length;
  }
  return out;
}

function sent(actions: NbdAction[]): Uint8Array {
  return bytes(...actions.flatMap((a) => (a.kind === 'send' ? [a.bytes] : [])));
}

test('the handshake: magic words, fixed newstyle and no zeroes offered', () => {
  const greeting = new NbdServerProtocol(SIZE).greeting();
  assert.deepEqual([...greeting], [...be(0x4e42444d41474943n, 8), ...IHAVEOPT, 0, 3]);
});

test('GO: the export size and read-only flags, block sizes when asked, then reads and a disconnect', () => {
  const p = new NbdServerProtocol(SIZE);
  assert.deepEqual(p.receive(bytes(be(3, 4))), []);
  const negotiated = p.receive(bytes(option(8), go([3])));
  const replies = optionReplies(sent(negotiated));
  assert.deepEqual(replies, [
    [8, 0x80000001, 0],
    [7, 3, 12],
    [7, 3, 14],
    [7, 1, 0],
  ]);
  const info = sent(negotiated).subarray(40, 52);
  const view = new DataView(info.buffer, info.byteOffset, 12);
  assert.equal(view.getUint16(0), 0);
  assert.equal(view.getBigUint64(2), BigInt(SIZE));
  assert.equal(view.getUint16(10), 3);
  const reads = p.receive(bytes(request(0, 7, 4096, 65536), request(0, 8, SIZE - 1, 1)));
  assert.deepEqual(
    reads.map((a) => (a.kind === 'read' ? [a.offset, a.length, a.handle[7]] : a.kind)),
    [
      [4096, 65536, 7],
      [SIZE - 1, 1, 8],
    ],
  );
  assert.deepEqual(p.receive(bytes(request(2, 9, 0, 0))), [{ kind: 'close' }]);
});

test('EXPORT_NAME: size and flags, with 124 zeroes unless the client takes none', () => {
  for (const [flags, length] of [
    [3, 10],
    [1, 134],
  ] as const) {
    const p = new NbdServerProtocol(SIZE);
    const actions = p.receive(bytes(be(flags, 4), option(1, [...new TextEncoder().encode('x')])));
    assert.equal(sent(actions).byteLength, length);
    assert.equal(p.receive(bytes(request(0, 1, 0, 10))).length, 1);
  }
});

test('what the export refuses: unknown options, reads past the end, writes, other commands', () => {
  const p = new NbdServerProtocol(SIZE);
  p.receive(bytes(be(1, 4)));
  assert.deepEqual(optionReplies(sent(p.receive(bytes(option(10, [1, 2, 3]))))), [[10, 0x80000001, 0]]);
  assert.deepEqual(optionReplies(sent(p.receive(bytes(option(7, [0, 0]))))), [[7, 0x80000003, 0]]);
  p.receive(bytes(go()));
  const handle = Uint8Array.from(be(5, 8));
  assert.deepEqual(p.receive(bytes(request(0, 5, SIZE - 1, 2))), [
    { kind: 'send', bytes: simpleReplyHeader(handle, NBD_ERRORS.EINVAL) },
  ]);
  assert.deepEqual(p.receive(bytes(request(1, 5, 0, 3), [1, 2, 3])), [
    { kind: 'send', bytes: simpleReplyHeader(handle, NBD_ERRORS.EPERM) },
  ]);
  assert.deepEqual(p.receive(bytes(request(7, 5, 0, 3))), [
    { kind: 'send', bytes: simpleReplyHeader(handle, NBD_ERRORS.EINVAL) },
  ]);
  assert.throws(() => p.receive(bytes([0, 0, 0, 0], request(0, 1, 0, 1).slice(4))), FormatError);
});

test('a client that does not speak fixed newstyle, or sends an option too big, is refused', () => {
  assert.throws(() => new NbdServerProtocol(SIZE).receive(bytes(be(0, 4))), FormatError);
  const p = new NbdServerProtocol(SIZE);
  p.receive(bytes(be(1, 4)));
  assert.throws(() => p.receive(bytes([...IHAVEOPT, ...be(7, 4), ...be(1 << 20, 4)])), FormatError);
});

test('the same conversation gives the same actions however its bytes are split', () => {
  const whole = bytes(
    be(3, 4),
    option(8),
    go([3]),
    request(0, 1, 0, 100),
    request(3, 2, 0, 0),
    request(2, 3, 0, 0),
  );
  const expected = new NbdServerProtocol(SIZE).receive(whole);
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: whole.length - 1 }), { maxLength: 12 }), (cuts) => {
      const at = [...new Set(cuts)].sort((a, b) => a - b);
      const p = new NbdServerProtocol(SIZE);
      const actions: NbdAction[] = [];
      let from = 0;
      for (const cut of [...at, whole.length]) {
        actions.push(...p.receive(whole.subarray(from, cut)));
        from = cut;
      }
      assert.deepEqual(actions, expected);
    }),
  );
});

test('any bytes from a client give actions or a FormatError, never anything else', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), fc.boolean(), (junk, afterHandshake) => {
      const p = new NbdServerProtocol(SIZE);
      try {
        if (afterHandshake) p.receive(bytes(be(3, 4), go()));
        for (const action of p.receive(junk)) {
          if (action.kind === 'read') assert.ok(action.offset + action.length <= SIZE);
        }
      } catch (e) {
        assert.ok(e instanceof FormatError, String(e));
      }
    }),
    { numRuns: 2000 },
  );
});
