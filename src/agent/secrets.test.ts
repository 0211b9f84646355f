import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeUnattendPassword } from '../formats/unattend/index.ts';
import { REDACTED, SecretScrubber, unattendSecrets } from './secrets.ts';

test("an unattend's secrets: plain values, with entities resolved, and the passwords Windows SIM hides", () => {
  const hidden = encodeUnattendPassword('Hidden#1', 'AdministratorPassword');
  const xml = `<unattend>
    <AdministratorPassword><Value>${hidden}</Value><PlainText>false</PlainText></AdministratorPassword>
    <LocalAccount><Password><Value>a&amp;b&lt;c</Value><PlainText>true</PlainText></Password><Name>ops</Name></LocalAccount>
    <Credentials><Domain>corp</Domain><Password>Join-Pw</Password><Username>joiner</Username></Credentials>
    <wcm:Value xmlns:wcm="x">  </wcm:Value>
  </unattend>`;
  const secrets = unattendSecrets(xml);
  for (const s of [hidden, 'Hidden#1', 'a&amp;b&lt;c', 'a&b<c', 'Join-Pw']) assert.ok(secrets.includes(s), s);
  for (const s of ['false', 'true', 'ops', 'corp', 'joiner', '']) assert.ok(!secrets.includes(s), s);
});

test('the scrubber replaces every secret, the longer first, and leaves the rest', () => {
  const scrubber = new SecretScrubber();
  scrubber.add('abc', 'abcdef', '');
  assert.equal(
    scrubber.scrub('x abcdef y abc z abcabc'),
    `x ${REDACTED} y ${REDACTED} z ${REDACTED}${REDACTED}`,
  );
  assert.equal(scrubber.scrub('nothing here'), 'nothing here');
});
