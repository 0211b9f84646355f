// The console behind the server's TLS: `winsmith server` (in this process) serves a certificate
// the test's own CA signed (openssl, test/helpers/test-ca.ts), and real Chromium signs in over
// HTTPS, lists the images and gets the event stream. Chromium is not told to ignore certificate
// errors (no ignoreHTTPSErrors): it is launched with --ignore-certificate-errors-spki-list naming
// the SHA-256 of the server certificate's public key, so that it trusts that one key and still
// checks everything else — a browser without the switch refuses the page. No URL the page asked
// for holds the password or the token.

import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { withTempDir } from '../../src/io/output.ts';
import { NO_BROWSER, launchChromium, recordUrls, seriousViolations, watchPage } from './browser.ts';
import { OPERATOR, imageRefOf, signInOperator, startInventoryServer } from '../helpers/inventory-server.ts';
import { makeTestCertificates } from '../helpers/test-ca.ts';

/** base64 of the SHA-256 of the certificate's SubjectPublicKeyInfo (DER): what Chromium's switch takes. */
function spkiHash(pem: string): string {
  const spki = new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

test(
  'the console over HTTPS: sign in, images, live events; no secret in a URL',
  { skip: NO_BROWSER },
  async () => {
    await withTempDir(async (dir) => {
      const certs = await makeTestCertificates(dir);
      const { server } = await startInventoryServer(
        dir,
        { images: 3, machines: 0 },
        { cert: certs.cert, key: certs.key },
      );
      try {
        assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);

        // Without the switch, the certificate of an unknown CA is refused.
        const untrusting = await launchChromium();
        try {
          const page = await untrusting.newPage();
          await assert.rejects(page.goto(server.url), /ERR_CERT_AUTHORITY_INVALID/);
        } finally {
          await untrusting.close();
        }

        const spki = spkiHash(await readFile(certs.cert, 'utf8'));
        const browser = await launchChromium([`--ignore-certificate-errors-spki-list=${spki}`]);
        try {
          const page = await browser.newPage();
          const problems = watchPage(page);
          const urls = recordUrls(page);
          const token = await signInOperator(page, server.url);
          assert.ok(token.length > 0);

          const listed = await page.locator('tbody tr td:first-child').allInnerTexts();
          assert.deepEqual(
            listed,
            [0, 1, 2].map((i) => `${imageRefOf(i).name}:${imageRefOf(i).tag}`),
          );
          await page
            .getByRole('status')
            .filter({ hasText: /^Live$/ })
            .waitFor();
          assert.deepEqual(await seriousViolations(page), [], 'axe-core');
          assert.deepEqual(problems, [], 'script errors');

          const origin = new URL(server.url).origin;
          const asked = urls.filter((u) => u.startsWith('http'));
          assert.ok(asked.length > 0);
          assert.deepEqual(
            asked.filter((u) => new URL(u).origin !== origin),
            [],
            'every request went to the server over HTTPS',
          );
          // Each as it is, percent-encoded and form-encoded (a space as '+').
          const secrets = [token, OPERATOR.password].flatMap((s) => [
            s,
            encodeURIComponent(s),
            new URLSearchParams({ s }).toString().slice(2),
          ]);
          assert.deepEqual(
            urls.filter((u) => secrets.some((s) => u.includes(s)) || /token=|password=/i.test(u)),
            [],
            'a secret in a URL',
          );
        } finally {
          await browser.close();
        }
      } finally {
        await server.close();
      }
    });
  },
);
