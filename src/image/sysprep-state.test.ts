import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeRegData, Hive, REG_TYPES } from '../formats/regf/index.ts';
import { readSysprepState } from './sysprep-state.ts';

function systemHive(setup: Record<string, number | string>, generalizationState?: number): Hive {
  const hive = Hive.create('ROOT');
  const key = hive.ensureKey('Setup');
  for (const [name, value] of Object.entries(setup)) {
    const type = typeof value === 'number' ? REG_TYPES.REG_DWORD : REG_TYPES.REG_SZ;
    key.setValue(name, type, encodeRegData(type, value));
  }
  if (generalizationState !== undefined) {
    hive
      .ensureKey('Setup\\Status\\SysprepStatus')
      .setValue(
        'GeneralizationState',
        REG_TYPES.REG_DWORD,
        encodeRegData(REG_TYPES.REG_DWORD, generalizationState),
      );
  }
  return Hive.parse(hive.serialize());
}

test('a hive Sysprep /generalize left is generalized', () => {
  const state = readSysprepState(
    systemHive({ SystemSetupInProgress: 1, SetupType: 2, CmdLine: 'oobe\\windeploy.exe' }, 7),
  );
  assert.equal(state.generalized, true);
  assert.match(state.evidence, /GeneralizationState=7/);
});

test('a Windows in use is not generalized, though its GeneralizationState is 7', () => {
  const state = readSysprepState(systemHive({ SystemSetupInProgress: 0, SetupType: 0, CmdLine: '' }, 7));
  assert.equal(state.generalized, false);
  assert.match(state.evidence, /SystemSetupInProgress=0/);
});

test('a generalize that did not complete is not generalized', () => {
  const state = readSysprepState(
    systemHive({ SystemSetupInProgress: 1, SetupType: 2, CmdLine: 'oobe\\windeploy.exe' }, 4),
  );
  assert.equal(state.generalized, false);
});

test('a hive with no Setup key is not generalized, and says so', () => {
  const state = readSysprepState(Hive.parse(Hive.create('ROOT').serialize()));
  assert.equal(state.generalized, false);
  assert.match(state.evidence, /SystemSetupInProgress=absent/);
});
