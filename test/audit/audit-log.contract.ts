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
