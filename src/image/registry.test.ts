import assert from 'node:assert/strict';
import { chmod, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { AppError } from '../core/errors.ts';
import type { ProgressEvent } from '../core/progress.ts';
import { Hive } from '../formats/regf/index.ts';
import { parseRegText } from '../formats/regf/reg-text.ts';
import { withTempDir } from '../io/output.ts';
import {
  applyRegText,
  findHiveLogs,
  openHiveFile,
  regSetData,
  regTextOfKey,
  resolveKeyPath,
  writeHiveFile,
} from './registry.ts';

test('applyRegText applies sections in order, counts what changed and reports progress', () => {
  const hive = Hive.create('ROOT');
  hive.ensureKey('\\Old\\Sub');
  const lines = ['Windows Registry Editor Version 5.00', ''];
  for (let i = 0; i < 1200; i++) lines.push(`[\\K${i}]`, `"v"=dword:${i.toString(16)}`, '');
  lines.push('[-\\Old]', '[-\\Missing]', '[\\K1]', '"v"=-', '"none"=-');
  const events: ProgressEvent[] = [];
  const summary = applyRegText(hive, parseRegText(lines.join('\r\n')), (e) => events.push(e));
  assert.deepEqual(summary, { keysCreated: 1200, keysDeleted: 1, valuesSet: 1200, valuesDeleted: 1 });
  assert.equal(hive.getKey('\\Old'), undefined);
  assert.equal(hive.getKey('\\K1')?.value('v'), undefined);
  assert.deepEqual(hive.getKey('\\K2')?.value('v')?.data, Uint8Array.from([2, 0, 0, 0]));
  assert.deepEqual(
    events.map((e) => e.done),
    [0, 500, 1000, 1203],
  );
  assert.ok(events.every((e) => e.total === 1203 && e.unit === 'items'));
});

test('regTextOfKey lists the key and those below it, values as stored', () => {
  const hive = Hive.create('ROOT');
  hive.ensureKey('\\A\\B').setValue('x', 3, Uint8Array.from([1]));
  hive.ensureKey('\\C');
  const a = hive.getKey('\\A');
  assert.ok(a !== undefined);
  assert.deepEqual(regTextOfKey(a), {
    sections: [
      { kind: 'key', path: '\\A', values: [] },
      {
        kind: 'key',
        path: '\\A\\B',
        values: [{ kind: 'set', name: 'x', type: 3, data: Uint8Array.from([1]) }],
      },
    ],
  });
});

test('regSetData: each type from its command-line form; bad data is an INVALID_ARGUMENT or USAGE error', () => {
  assert.deepEqual(regSetData('reg_dword', ['0xFF']), { type: 4, data: Uint8Array.from([255, 0, 0, 0]) });
  assert.deepEqual(regSetData('REG_QWORD', ['18446744073709551615']).data, new Uint8Array(8).fill(255));
  assert.deepEqual(regSetData('REG_MULTI_SZ', ['["a"]']).data, Uint8Array.from([0x61, 0, 0, 0, 0, 0]));
  assert.deepEqual(
    regSetData('REG_MULTI_SZ', ['a', 'b']).data,
    Uint8Array.from([0x61, 0, 0, 0, 0x62, 0, 0, 0, 0, 0]),
  );
  assert.deepEqual(regSetData('REG_BINARY', ['01 02']).data, Uint8Array.from([1, 2]));
  assert.deepEqual(regSetData('REG_NONE', []), { type: 0, data: new Uint8Array(0) });
  const bad: [string, string[], string][] = [
    ['REG_DWORD', ['-1'], 'INVALID_ARGUMENT'],
    ['REG_DWORD', ['0x100000000'], 'INVALID_ARGUMENT'],
    ['REG_QWORD', ['18446744073709551616'], 'INVALID_ARGUMENT'],
    ['REG_SZ', [], 'USAGE'],
    ['REG_SZ', ['a', 'b'], 'USAGE'],
    ['REG_MULTI_SZ', ['[1]'], 'INVALID_ARGUMENT'],
    ['REG_BINARY', ['0'], 'INVALID_ARGUMENT'],
    ['REG_LINK', ['x'], 'INVALID_ARGUMENT'],
  ];
  for (const [type, data, code] of bad) {
    assert.throws(
      () => regSetData(type, data),
      (e: unknown) => e instanceof AppError && e.code === code,
      `${type} ${data.join(' ')}`,
    );
  }
});

test('findHiveLogs finds .LOG, .LOG1 and .LOG2 beside the hive in any letter case', async () => {
  await withTempDir(async (dir) => {
    for (const name of ['SYSTEM', 'system.log1', 'SYSTEM.LOG2', 'SYSTEM.LOG3', 'SOFTWARE.LOG']) {
      await writeFile(join(dir, name), '');
    }
    assert.deepEqual(await findHiveLogs(join(dir, 'SYSTEM')), [
      join(dir, 'system.log1'),
      join(dir, 'SYSTEM.LOG2'),
    ]);
  });
});

test('CurrentControlSet stands for the control set \\Select\\Current names, in an offline SYSTEM hive', () => {
  const hive = Hive.create('SYSTEM');
  assert.equal(resolveKeyPath(hive, '\\CurrentControlSet\\Services'), '\\CurrentControlSet\\Services');
  hive.ensureKey('\\Select').setValue('Current', 4, Uint8Array.from([2, 0, 0, 0]));
  hive.ensureKey('\\ControlSet002\\Services');
  assert.equal(resolveKeyPath(hive, '\\currentcontrolset\\Services'), '\\ControlSet002\\Services');
  assert.equal(resolveKeyPath(hive, 'CurrentControlSet'), '\\ControlSet002');
  assert.equal(resolveKeyPath(hive, '\\Select'), '\\Select');
  const text =
    'Windows Registry Editor Version 5.00\n[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\viostor]\n"Start"=dword:0\n';
  applyRegText(hive, parseRegText(text, { prefix: 'HKEY_LOCAL_MACHINE\\SYSTEM' }));
  assert.ok(hive.getKey('\\ControlSet002\\Services\\viostor')?.value('Start'));
  assert.equal(hive.getKey('\\CurrentControlSet'), undefined);
  hive.ensureKey('\\CurrentControlSet');
  assert.equal(resolveKeyPath(hive, '\\CurrentControlSet\\X'), '\\CurrentControlSet\\X');
});

test('writeHiveFile replaces a hive keeping its permission bits; openHiveFile reads it back', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'SOFTWARE');
    const hive = Hive.create('ROOT');
    await writeHiveFile(path, hive, { overwrite: false });
    await chmod(path, 0o640);
    hive.ensureKey('\\Contoso');
    await writeHiveFile(path, hive, { overwrite: true });
    assert.equal((await stat(path)).mode & 0o777, 0o640);
    assert.ok((await openHiveFile(path)).getKey('\\Contoso'));
    await assert.rejects(
      writeHiveFile(path, hive, { overwrite: false }),
      (e: unknown) => e instanceof AppError && e.code === 'ALREADY_EXISTS',
    );
  });
});
