import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Command } from 'commander';
import { COMMANDS } from './index.ts';

test('every registry entry says what its module says: path, summary and arguments', async () => {
  for (const entry of COMMANDS) {
    const spec = await entry.load();
    const where = entry.path.join(' ');
    assert.deepEqual(entry.path, spec.path, where);
    assert.equal(entry.summary, spec.summary, where);
    const command = new Command(where);
    spec.define(command);
    const args = command.registeredArguments
      .map((a) => {
        const name = `${a.name()}${a.variadic ? '...' : ''}`;
        return a.required ? `<${name}>` : `[${name}]`;
      })
      .join(' ');
    assert.equal(entry.args, args, where);
  }
});

test('no two entries have the same path', () => {
  const paths = COMMANDS.map((e) => e.path.join(' '));
  assert.equal(new Set(paths).size, paths.length);
});
