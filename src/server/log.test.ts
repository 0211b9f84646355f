import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createJsonLogger } from './log.ts';

test('the JSON logger writes lines of its least level and above, one JSON object each, secrets masked', () => {
  const lines: string[] = [];
  const logger = createJsonLogger({ write: (s: string) => lines.push(s) }, 'warn');
  logger.log('debug', 'packet dropped');
  logger.log('info', 'request');
  logger.log('warn', 'dhcp waiting for its interface', { interface: 'br0', password: 'hunter2' });
  logger.log('error', 'service failed');
  const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(
    parsed.map((p) => [p.level, p.msg]),
    [
      ['warn', 'dhcp waiting for its interface'],
      ['error', 'service failed'],
    ],
  );
  assert.equal(parsed[0]?.password, '***');
  assert.ok(lines.every((l) => l.endsWith('}\n')));
  const all: string[] = [];
  createJsonLogger({ write: (s: string) => all.push(s) }).log('debug', 'kept');
  assert.equal(all.length, 1);
});
