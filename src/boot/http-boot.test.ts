import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { normalizeMac, parseScriptQuery, scriptQueryOf } from './http-boot.ts';

test('parseScriptQuery: control characters out, long text cut, bad UUID dropped', () => {
  const parsed = parseScriptQuery({
    mac: '52:54:00:12:34:56',
    uuid: 'not-a-uuid',
    manufacturer: 'A\nB\u0000C',
    product: 'p'.repeat(1000),
  });
  assert.ok(parsed.ok);
  assert.equal(parsed.uuid, null);
  assert.equal(parsed.inventory.manufacturer, 'ABC');
  assert.equal(parsed.inventory.product?.length, 256);
  assert.equal(parsed.inventory.serial, null);
});

test('normalizeMac takes iPXE hexhyp, colons and bare hex; rejects the rest', () => {
  assert.equal(normalizeMac('52-54-00-AB-cd-EF'), '52:54:00:ab:cd:ef');
  assert.equal(normalizeMac('525400abcdef'), '52:54:00:ab:cd:ef');
  assert.equal(normalizeMac('52:54:00:ab:cd'), null);
  fc.assert(
    fc.property(fc.string(), (s) => {
      const m = normalizeMac(s);
      assert.ok(m === null || /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(m));
    }),
  );
});

test('scriptQueryOf: a plus stays a plus (iPXE uristring), bad escapes are kept raw, first value wins', () => {
  assert.deepEqual(
    scriptQueryOf(
      '?mac=52-54-00-12-34-56&product=Standard%20PC%20(i440FX%20+%20PIIX,%201996)&serial=%E0%A4%A&mac=x&other=1',
    ),
    { mac: '52-54-00-12-34-56', product: 'Standard PC (i440FX + PIIX, 1996)', serial: '%E0%A4%A' },
  );
  assert.deepEqual(scriptQueryOf(''), {});
  assert.deepEqual(scriptQueryOf('uuid'), { uuid: '' });
});
