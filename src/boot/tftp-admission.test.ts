import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TftpAdmission } from './tftp-admission.ts';

const limits = { maxAnswered: 3, maxUnanswered: 4, maxPerAddress: 2 };

test('a request sent again while its transfer is held is dropped without a word', () => {
  const a = new TftpAdmission(limits);
  assert.deepEqual(a.request('10.0.0.1:1000', '10.0.0.1'), { admit: true, evicted: undefined });
  assert.deepEqual(a.request('10.0.0.1:1000', '10.0.0.1'), { admit: false, refusal: undefined });
});

test('an address over its limit is refused and holds nothing more', () => {
  const a = new TftpAdmission(limits);
  a.request('10.0.0.1:1', '10.0.0.1');
  a.request('10.0.0.1:2', '10.0.0.1');
  assert.deepEqual(a.request('10.0.0.1:3', '10.0.0.1'), {
    admit: false,
    refusal: 'too many transfers from 10.0.0.1: try again later',
  });
  assert.equal(a.holds('10.0.0.1:3'), false);
  assert.deepEqual(a.counts(), { answered: 0, unanswered: 2 });
  // Another address is not affected; and once one transfer ends, the first address may start another.
  assert.equal(a.request('10.0.0.2:1', '10.0.0.2').admit, true);
  a.release('10.0.0.1:1');
  assert.equal(a.request('10.0.0.1:3', '10.0.0.1').admit, true);
});

test('a full unanswered pool lets its oldest transfer go for a new request', () => {
  const a = new TftpAdmission(limits);
  for (let i = 1; i <= 4; i++) a.request(`10.0.1.${i}:69`, `10.0.1.${i}`);
  assert.deepEqual(a.request('10.0.2.1:69', '10.0.2.1'), { admit: true, evicted: '10.0.1.1:69' });
  assert.equal(a.holds('10.0.1.1:69'), false);
  assert.deepEqual(a.counts(), { answered: 0, unanswered: 4 });
  // Its client answering late finds nothing held.
  assert.equal(a.answer('10.0.1.1:69'), false);
});

test('unanswered requests never take the place of answered transfers', () => {
  const a = new TftpAdmission({ ...limits, maxPerAddress: 100 });
  a.request('10.0.0.9:1', '10.0.0.9');
  assert.equal(a.answer('10.0.0.9:1'), true);
  for (let i = 0; i < 50; i++) a.request(`10.0.3.${i}:69`, `10.0.3.${i}`);
  assert.equal(a.holds('10.0.0.9:1'), true);
  assert.deepEqual(a.counts(), { answered: 1, unanswered: 4 });
});

test('the answered limit counts answered transfers only', () => {
  const a = new TftpAdmission({ ...limits, maxPerAddress: 100 });
  for (let i = 1; i <= 4; i++) a.request(`10.0.0.1:${i}`, '10.0.0.1');
  assert.equal(a.answer('10.0.0.1:1'), true);
  assert.equal(a.answer('10.0.0.1:2'), true);
  assert.equal(a.answer('10.0.0.1:3'), true);
  // The answered pool is full: the fourth transfer's first answer ends it, and new requests are refused.
  assert.equal(a.answer('10.0.0.1:4'), false);
  assert.equal(a.holds('10.0.0.1:4'), false);
  const refused = a.request('10.0.0.5:1', '10.0.0.5');
  assert.deepEqual(refused, { admit: false, refusal: 'too many transfers: try again later' });
  a.release('10.0.0.1:1');
  assert.equal(a.request('10.0.0.5:1', '10.0.0.5').admit, true);
  assert.deepEqual(a.counts(), { answered: 2, unanswered: 1 });
});
