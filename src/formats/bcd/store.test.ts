import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AppError, FormatError } from '../../core/errors.ts';
import { Hive, REG_TYPES } from '../regf/index.ts';
import { createBootStore } from './boot-store.ts';
import { BcdStore } from './store.ts';
import { WELL_KNOWN } from './tables.ts';
import { createBcdTemplate } from './template.ts';

const GPT = {
  style: 'gpt',
  diskGuid: '{d148fb7c-be81-4d12-8dcf-62260299abde}',
  systemPartitionGuid: '{236538dd-1103-424b-80ef-c54841d0a445}',
  windowsPartitionGuid: '{ecd43012-88cf-4f80-a8de-8d3719d0653a}',
} as const;

test('objects are created, read, changed and deleted through the hive', () => {
  const store = BcdStore.create('BCD00000001', { clock: () => 0n });
  const id = store.createObject('{AAAAAAAA-0000-0000-0000-000000000001}', 0x10200003);
  assert.equal(id, '{aaaaaaaa-0000-0000-0000-000000000001}');
  store.setElement(id, 0x12000004, { format: 'string', value: 'Test' });
  store.setElement(id, 0x25000020, { format: 'integer', value: 3n });
  const again = BcdStore.parse(store.serialize());
  assert.deepEqual(
    again.object(id)?.elements.map((e) => [e.name, e.value.format]),
    [
      ['description', 'string'],
      ['nx', 'integer'],
    ],
  );
  assert.equal(again.deleteElement(id, 0x25000020), true);
  assert.equal(again.deleteElement(id, 0x25000020), false);
  assert.equal(again.getElement(id, 0x25000020), undefined);
  assert.throws(
    () => again.createObject(id, 0x10200003),
    (e: unknown) => e instanceof AppError && e.code === 'ALREADY_EXISTS',
  );
  assert.equal(again.deleteObject(id), true);
  assert.equal(again.object(id), undefined);
  assert.throws(
    () => again.setElement(id, 0x12000004, { format: 'string', value: 'x' }),
    (e: unknown) => e instanceof AppError && e.code === 'NOT_FOUND',
  );
});

test('aliases and {default} resolve to object GUIDs', () => {
  let next = 0;
  const { store, loaderId } = createBootStore({
    firmware: 'uefi',
    disk: GPT,
    random: (n) => new Uint8Array(n).fill(++next),
  });
  assert.equal(store.resolve('{bootmgr}'), WELL_KNOWN.bootmgr);
  assert.equal(store.resolve('BootMgr'), WELL_KNOWN.bootmgr);
  assert.equal(store.resolve('{default}'), loaderId);
  assert.throws(
    () => store.resolve('{nosuch}'),
    (e: unknown) => e instanceof AppError && e.code === 'INVALID_ARGUMENT',
  );
  const empty = BcdStore.fromHive(createBcdTemplate());
  assert.throws(
    () => empty.resolve('{default}'),
    (e: unknown) => e instanceof AppError && e.code === 'NOT_FOUND',
  );
});

test('a bad object type is a FormatError; a bad element value is kept undecoded, the store still read', () => {
  const hive = createBcdTemplate();
  hive
    .getKey(`Objects\\${WELL_KNOWN.memdiag}\\Description`)
    ?.setValue('Type', REG_TYPES.REG_SZ, new Uint8Array(4));
  assert.throws(() => BcdStore.fromHive(hive).objects(), FormatError);
  const hive2 = createBcdTemplate();
  hive2
    .ensureKey(`Objects\\${WELL_KNOWN.bootmgr}\\Elements\\25000004`)
    .setValue('Element', REG_TYPES.REG_SZ, new Uint8Array(2));
  const bootmgr = BcdStore.fromHive(hive2).object(WELL_KNOWN.bootmgr);
  const timeout = bootmgr?.elements.find((e) => e.type === 0x25000004)?.value;
  assert.equal(timeout?.format, 'undecoded');
  assert.ok(bootmgr !== undefined && bootmgr.elements.length > 1);
  assert.throws(() => BcdStore.fromHive(Hive.create('x')), FormatError);
});

test('createBootStore is deterministic for fixed GUIDs and clock, and needs GUIDs or randomness', () => {
  const make = (): Uint8Array =>
    createBootStore({
      firmware: 'uefi',
      disk: GPT,
      loaderId: '{11111111-1111-1111-1111-111111111111}',
      resumeId: '{22222222-2222-2222-2222-222222222222}',
      clock: () => 0n,
    }).store.serialize();
  assert.deepEqual(make(), make());
  assert.throws(
    () => createBootStore({ firmware: 'uefi', disk: GPT }),
    (e: unknown) => e instanceof AppError && e.code === 'INVALID_ARGUMENT',
  );
  assert.throws(
    () =>
      createBootStore({
        firmware: 'bios',
        disk: { style: 'mbr', diskSignature: '1', systemPartitionOffset: -1, windowsPartitionOffset: 0 },
        random: (n) => new Uint8Array(n),
      }),
    (e: unknown) => e instanceof AppError && e.code === 'INVALID_ARGUMENT',
  );
});
