// The local report listener, as a hostile guest would try it: wrong routes, no or a wrong token,
// oversized bodies (announced or not), bodies that are not reports; and a good report delivered.

import assert from 'node:assert/strict';
import { request } from 'node:http';
import { describe, test } from 'node:test';
import type { BuildReport } from '../../src/build/build-report.ts';
import { reportPath, ReportListener, tokenDigest } from '../../src/build/report-listener.ts';

function post(
  port: number,
  path: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('the build report listener', () => {
  test('only the build’s route, with its token, with a valid report, is taken', async () => {
    const got: BuildReport[] = [];
    const listener = await ReportListener.start('b-1', tokenDigest('secret-token'), (r) => got.push(r));
    try {
      const path = reportPath('b-1');
      const auth = { authorization: 'Bearer secret-token', 'content-type': 'application/json' };
      assert.match(listener.guestUrl('b-1'), /^http:\/\/10\.0\.2\.2:\d+\/api\/v1\/builds\/b-1\/report$/);
      assert.equal(await post(listener.port, '/api/v1/builds/b-2/report', '{}', auth), 404);
      assert.equal(await post(listener.port, path, '{"event":"installed"}'), 401);
      assert.equal(
        await post(listener.port, path, '{"event":"installed"}', { authorization: 'Bearer nope' }),
        401,
      );
      assert.equal(await post(listener.port, path, 'x'.repeat(70_000), auth), 413);
      assert.equal(
        await post(listener.port, path, 'x'.repeat(70_000), { ...auth, 'transfer-encoding': 'chunked' }),
        413,
      );
      assert.equal(await post(listener.port, path, 'not json', auth), 400);
      assert.equal(await post(listener.port, path, '{"event":"installed","extra":1}', auth), 400);
      assert.equal(
        await post(listener.port, path, '{"event":"end","step":-1,"ok":true,"output":""}', auth),
        400,
      );
      assert.deepEqual(got, []);
      assert.equal(
        await post(listener.port, path, '{"event":"start","step":0,"kind":"restart","round":0}', auth),
        204,
      );
      assert.deepEqual(got, [{ event: 'start', step: 0, kind: 'restart', round: 0 }]);
    } finally {
      await listener.close();
    }
  });
});
