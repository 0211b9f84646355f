import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError } from '../core/errors.ts';
import { metricsGate } from './metrics-access.ts';

const refusedWith = (code: string) => (e: unknown) => e instanceof AppError && e.code === code;

test('metrics: addresses and networks of allow pass, IPv4 seen on a dual-stack socket too', () => {
  const gate = metricsGate({ token: null, allow: ['127.0.0.0/8', '::1', '10.1.0.0/16', '192.0.2.9'] });
  for (const client of ['127.0.0.1', '127.9.9.9', '::1', '10.1.200.3', '::ffff:10.1.0.1', '192.0.2.9']) {
    assert.doesNotThrow(() => gate(client, null), client);
  }
  for (const client of ['10.2.0.1', '192.0.2.10', '::2', '::ffff:10.2.0.1', 'unknown']) {
    assert.throws(() => gate(client, null), refusedWith('FORBIDDEN'), client);
  }
});

test('metrics: the token passes from anywhere; a wrong one is UNAUTHORIZED; none set, no token passes', () => {
  const gate = metricsGate({ token: 'scrape-me', allow: [] });
  assert.doesNotThrow(() => gate('198.51.100.1', 'scrape-me'));
  assert.throws(() => gate('198.51.100.1', 'scrape-m3'), refusedWith('UNAUTHORIZED'));
  assert.throws(() => gate('198.51.100.1', null), refusedWith('FORBIDDEN'));
  assert.throws(
    () => metricsGate({ token: null, allow: [] })('198.51.100.1', 'x'),
    refusedWith('UNAUTHORIZED'),
  );
  for (const allow of ['not-an-address', '10.0.0.0/33', '::1/129']) {
    assert.throws(() => metricsGate({ token: null, allow: [allow] }), refusedWith('INVALID_ARGUMENT'), allow);
  }
});
