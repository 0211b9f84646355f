// The audit log, the same on every database winsmith supports.

import assert from 'node:assert/strict';
import type { StoreTest } from '../db/store-fixture.ts';

export function auditLogContract(storeTest: StoreTest): void {
  storeTest('the audit log lists newest first, filters and pages', async ({ audit }) => {
    for (let i = 0; i < 5; i++) {
      await audit.appendAudit({
        actor: i % 2 === 0 ? 'alice' : 'bob',
        action: i < 3 ? 'image.push' : 'tag.move',
        target: `ws:v${i}`,
        client: '127.0.0.1',
        details: { n: i, nested: { ok: true } },
      });
    }
    const all = await audit.listAudit();
    assert.deepEqual(
      all.map((e) => e.target),
      ['ws:v4', 'ws:v3', 'ws:v2', 'ws:v1', 'ws:v0'],
    );
    assert.deepEqual(all[0]?.details, { n: 4, nested: { ok: true } });
    assert.equal(all[0].client, '127.0.0.1');
    assert.deepEqual(
      (await audit.listAudit({ actor: 'bob' })).map((e) => e.target),
      ['ws:v3', 'ws:v1'],
    );
    assert.equal((await audit.listAudit({ action: 'tag.move' })).length, 2);
    const page = await audit.listAudit({ limit: 2 });
    const next = await audit.listAudit({ limit: 2, beforeId: page[1]?.id ?? 0 });
    assert.deepEqual(
      next.map((e) => e.target),
      ['ws:v2', 'ws:v1'],
    );
  });

  storeTest('the audit log filters by time and pages with the id of the next page', async ({ audit }) => {
    for (let day = 1; day <= 4; day++) {
      await audit.appendAudit({
        actor: 'alice',
        action: 'user.add',
        target: `u${day}`,
        at: `2026-12-0${day}T12:00:00.000Z`,
      });
    }
    const between = await audit.listAudit({
      since: '2026-12-02T12:00:00.000Z',
      until: '2026-12-04T00:00:00.000Z',
    });
    assert.deepEqual(
      between.map((e) => e.target),
      ['u3', 'u2'],
    );
    const first = await audit.listAuditPage({ limit: 3 });
    assert.deepEqual(
      first.entries.map((e) => e.target),
      ['u4', 'u3', 'u2'],
    );
    assert.equal(first.next, first.entries[2]?.id);
    const last = await audit.listAuditPage({ limit: 3, beforeId: first.next });
    assert.deepEqual(
      last.entries.map((e) => e.target),
      ['u1'],
    );
    assert.equal(last.next, null);
    assert.equal(
      (await audit.listAuditPage({ limit: 1, actor: 'alice', since: '2026-12-04T00:00:00.000Z' })).next,
      null,
    );
  });

  storeTest('audit details never keep a secret', async ({ audit }) => {
    const entry = await audit.appendAudit({
      actor: 'admin',
      action: 'user.add',
      target: 'alice',
      details: {
        role: 'builder',
        password: 'hunter2hunter2',
        nested: [{ tokenHash: 'abc', Authorization: 'Bearer wsm_x', tokenName: 'ci' }],
        clientSecret: 's',
      },
    });
    const stored = (await audit.listAudit({ target: 'alice' }))[0];
    assert.deepEqual(stored, entry);
    assert.deepEqual(stored.details, {
      role: 'builder',
      password: '[redacted]',
      nested: [{ tokenHash: '[redacted]', Authorization: '[redacted]', tokenName: 'ci' }],
      clientSecret: '[redacted]',
    });
  });
}
