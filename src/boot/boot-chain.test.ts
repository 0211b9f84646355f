import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chooseUefiChain } from './boot-chain.ts';

test('auto follows the last report: shim only when Secure Boot was on; unknown and off keep iPXE', () => {
  assert.equal(chooseUefiChain({ server: 'auto', profile: null, secureBoot: true }), 'shim');
  assert.equal(chooseUefiChain({ server: 'auto', profile: null, secureBoot: false }), 'ipxe');
  assert.equal(chooseUefiChain({ server: 'auto', profile: null, secureBoot: null }), 'ipxe');
  assert.equal(chooseUefiChain({ server: 'auto', profile: 'auto', secureBoot: true }), 'shim');
});

test("the server's setting forces every machine's chain, whatever it reported", () => {
  for (const secureBoot of [true, false, null]) {
    assert.equal(chooseUefiChain({ server: 'shim', profile: null, secureBoot }), 'shim');
    assert.equal(chooseUefiChain({ server: 'ipxe', profile: 'auto', secureBoot }), 'ipxe');
  }
});

test("a profile's setting comes before the server's for the machines it is deployed to", () => {
  assert.equal(chooseUefiChain({ server: 'ipxe', profile: 'shim', secureBoot: false }), 'shim');
  assert.equal(chooseUefiChain({ server: 'shim', profile: 'ipxe', secureBoot: true }), 'ipxe');
});
