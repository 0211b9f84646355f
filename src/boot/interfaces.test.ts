import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canBind, pollUntil } from './interfaces.ts';

test('pollUntil: the first answer found; null once the signal aborts', async () => {
  let asked = 0;
  const found = await pollUntil(() => (++asked === 3 ? 'br0' : null), new AbortController().signal, 5);
  assert.deepEqual([found, asked], ['br0', 3]);
  const stop = new AbortController();
  setTimeout(() => stop.abort(), 30);
  assert.equal(await pollUntil(() => null, stop.signal, 5), null);
});

test('canBind: a wildcard always, an address only when an interface has it', () => {
  for (const host of ['0.0.0.0', '::', '', '127.0.0.1']) assert.ok(canBind(host), host);
  assert.ok(!canBind('192.0.2.254'));
});
