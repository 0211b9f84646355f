import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_REPORT_LINES, type AgentReport } from '../deploy/agent-protocol.ts';
import { RequestError } from './agent-client.ts';
import { Reporter, type ReporterOptions } from './reporter.ts';
import { REDACTED, SecretScrubber } from './secrets.ts';

const TOKEN = 'tok-9f8e7d6c5b4a';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A reporter whose sends go to `sent`; `fail(n)` makes the next n sends fail with `error`. */
function harness(options: Partial<ReporterOptions> = {}) {
  const sent: AgentReport[] = [];
  const printed: string[] = [];
  const refused: RequestError[] = [];
  let failures = 0;
  let failure: Error = new RequestError('IO_ERROR', 'no answer', null);
  const scrubber = new SecretScrubber();
  scrubber.add(TOKEN);
  const reporter = new Reporter({
    send: (report) => {
      if (failures > 0) {
        failures--;
        return Promise.reject(failure);
      }
      sent.push(report);
      return Promise.resolve();
    },
    scrubber,
    progressMs: 40,
    print: (line) => printed.push(line),
    onRefused: (e) => refused.push(e),
    retry: { attempts: Number.POSITIVE_INFINITY, firstDelayMs: 5, maxDelayMs: 20 },
    maxPendingLines: 1000,
    ...options,
  });
  return {
    reporter,
    sent,
    printed,
    refused,
    fail(n: number, error: Error = failure) {
      failures = n;
      failure = error;
    },
  };
}

test('states go out once each and in order, with their inventory, disk and error', async () => {
  const h = harness();
  h.reporter.state({
    state: 'agent-online',
    inventory: { disks: [], nics: [], firmware: 'uefi', secureBoot: null },
  });
  h.reporter.state({ state: 'partitioning', disk: '/dev/sda' });
  h.reporter.state({ state: 'failed', error: { message: `cannot use ${TOKEN}`, step: 'partitioning' } });
  assert.equal(await h.reporter.flush(1000), true);
  assert.deepEqual(
    h.sent.map((r) => [r.state, r.disk, r.error]),
    [
      ['agent-online', undefined, undefined],
      ['partitioning', '/dev/sda', undefined],
      ['failed', undefined, { message: `cannot use ${REDACTED}`, step: 'partitioning' }],
    ],
  );
  assert.equal(h.sent[0]?.inventory?.firmware, 'uefi');
});

test('failed sends are tried again: no state and no line is lost, none is sent twice', async () => {
  const h = harness();
  h.fail(3);
  h.reporter.state({ state: 'agent-online' });
  h.reporter.log('one');
  h.reporter.state({ state: 'partitioning' });
  h.reporter.log('two');
  assert.equal(await h.reporter.flush(2000), true);
  assert.deepEqual(
    h.sent.map((r) => r.state),
    ['agent-online', 'partitioning'],
  );
  assert.deepEqual(
    h.sent.flatMap((r) => r.log ?? []),
    ['one', 'two'],
  );
});

test('log lines: scrubbed, one line each, cut to the protocol length, at most 200 a report', async () => {
  const h = harness();
  for (let i = 0; i < 450; i++) h.reporter.log(`line ${i}`);
  h.reporter.log(`token ${TOKEN}\nsecond line ${'x'.repeat(3000)}`);
  assert.equal(await h.reporter.flush(2000), true);
  const lines = h.sent.flatMap((r) => r.log ?? []);
  assert.ok(h.sent.every((r) => (r.log?.length ?? 0) <= MAX_REPORT_LINES));
  assert.equal(lines.length, 451);
  assert.equal(lines[449], 'line 449');
  const last = lines[450] ?? '';
  assert.ok(last.startsWith(`token ${REDACTED} second line xxx`), last.slice(0, 40));
  assert.equal(last.length, 2000);
  assert.ok(!h.printed.some((l) => l.includes(TOKEN)));
});

test('lines logged while the server is away are bounded: the oldest go, and the report says how many', async () => {
  const h = harness({ maxPendingLines: 10 });
  h.fail(1);
  h.reporter.state({ state: 'agent-online' });
  for (let i = 0; i < 25; i++) h.reporter.log(`line ${i}`);
  assert.equal(await h.reporter.flush(2000), true);
  const lines = h.sent.flatMap((r) => r.log ?? []);
  assert.deepEqual(lines, [
    '(15 earlier lines were dropped while reports could not be sent)',
    ...Array.from({ length: 10 }, (_, i) => `line ${i + 15}`),
  ]);
});

test('progress goes out when it moved, at most every progressMs; a heartbeat when nothing happens', async () => {
  const h = harness();
  h.reporter.start(150);
  h.reporter.state({ state: 'applying' });
  const started = Date.now();
  for (let done = 1; done <= 20; done++) {
    h.reporter.progress(done * 100, 2000);
    await sleep(10);
  }
  const elapsed = Date.now() - started;
  await sleep(400);
  h.reporter.stop();
  const progress = h.sent.flatMap((r) => (r.progress === undefined ? [] : [r.progress.done]));
  assert.ok(
    progress.length >= 2 && progress.length <= Math.ceil(elapsed / 40) + 1,
    `progress sent ${progress.length} times in ${elapsed} ms`,
  );
  assert.equal(progress.at(-1), 2000);
  assert.ok(progress.every((p, i) => i === 0 || p > (progress[i - 1] ?? 0)));
  const empty = h.sent.filter((r) => Object.keys(r).length === 0);
  assert.ok(empty.length >= 1, 'no heartbeat was sent');
});

test('a refusal for good (401/403/404/409/410) is passed on once and stops the reports', async () => {
  const h = harness();
  h.fail(1, new RequestError('FORBIDDEN', 'POST /api/v1/agent/report answered HTTP 403', 403));
  h.reporter.state({ state: 'agent-online' });
  assert.equal(await h.reporter.flush(500), false);
  h.reporter.log('after');
  await sleep(50);
  assert.equal(h.refused.length, 1);
  assert.equal(h.sent.length, 0);
});

test('a report the server cannot take (400) is dropped, and the next ones go on', async () => {
  const h = harness();
  h.fail(1, new RequestError('INVALID_ARGUMENT', 'POST /api/v1/agent/report answered HTTP 400', 400));
  h.reporter.state({ state: 'agent-online' });
  assert.equal(await h.reporter.flush(1000), true);
  h.reporter.log('kept');
  h.reporter.state({ state: 'partitioning' });
  assert.equal(await h.reporter.flush(1000), true);
  assert.deepEqual(
    h.sent.map((r) => [r.state, r.log]),
    [['partitioning', ['kept']]],
  );
  assert.ok(h.printed.some((l) => l.startsWith('the server refused a report, which is dropped: ')));
  assert.equal(h.refused.length, 0);
});
