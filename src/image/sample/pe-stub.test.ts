import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IMAGE_FILE_MACHINE_AMD64, makePeStub } from './pe-stub.ts';

test('the stub has the headers wimlib and PE readers check: MZ, e_lfanew, PE\\0\\0, AMD64, PE32+', () => {
  for (const dll of [true, false]) {
    const bytes = makePeStub({ dll, text: 'stand-in text' });
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    assert.equal(String.fromCharCode(bytes[0] ?? 0, bytes[1] ?? 0), 'MZ');
    const peOffset = view.getUint32(0x3c, true);
    assert.equal(peOffset % 4, 0, 'wimlib wants e_lfanew 4-aligned');
    assert.ok(peOffset + 6 <= bytes.length);
    assert.equal(view.getUint32(peOffset, true), 0x0000_4550);
    assert.equal(view.getUint16(peOffset + 4, true), IMAGE_FILE_MACHINE_AMD64);
    const optionalSize = view.getUint16(peOffset + 20, true);
    assert.equal(optionalSize, 240);
    assert.equal(view.getUint16(peOffset + 24, true), 0x20b);
    const characteristics = view.getUint16(peOffset + 22, true);
    assert.equal((characteristics & 0x2000) !== 0, dll);
    const headersEnd = peOffset + 24 + optionalSize;
    assert.equal(new TextDecoder().decode(bytes.subarray(headersEnd)), 'stand-in text');
  }
});
