import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError } from '../core/errors.ts';
import { kernelParameters, parseAgentConfig } from './agent-config.ts';

const TOKEN = 'wsd_abc123-secret';

test('kernel parameters: key=value words, bare words, quoted values with spaces, the last one wins', () => {
  const params = kernelParameters(
    'BOOT_IMAGE=/vmlinuz  quiet console="ttyS0,115200 n8" winsmith.token=a winsmith.token=b\n',
  );
  assert.equal(params.get('BOOT_IMAGE'), '/vmlinuz');
  assert.equal(params.get('quiet'), '');
  assert.equal(params.get('console'), 'ttyS0,115200 n8');
  assert.equal(params.get('winsmith.token'), 'b');
  assert.equal(kernelParameters('').size, 0);
  assert.equal(kernelParameters('"a=b c"').get('a'), 'b c');
});

test('the agent config: server without a trailing slash, token and deployment', () => {
  const config = parseAgentConfig(
    `ro winsmith.server=http://10.0.0.1:8080/ winsmith.token=${TOKEN} winsmith.deployment=d-42 ip=dhcp`,
  );
  assert.deepEqual(config, { server: 'http://10.0.0.1:8080', token: TOKEN, deployment: 'd-42' });
  assert.equal(
    parseAgentConfig(
      `winsmith.server=https://deploy.example/winsmith/ winsmith.token=t winsmith.deployment=d`,
    ).server,
    'https://deploy.example/winsmith',
  );
});

test('a missing or unusable value is an error naming the parameter, never quoting the line or the token', () => {
  const cases: [string, RegExp][] = [
    [`winsmith.token=${TOKEN} winsmith.deployment=d`, /^the kernel command line has no winsmith\.server=$/],
    [
      `winsmith.server=http://s winsmith.deployment=d winsmith.token=`,
      /^the kernel command line has no winsmith\.token=$/,
    ],
    [
      `winsmith.server=http://s winsmith.token=${TOKEN}`,
      /^the kernel command line has no winsmith\.deployment=$/,
    ],
    [
      `winsmith.server=not-a-url winsmith.token=${TOKEN} winsmith.deployment=d`,
      /^winsmith\.server is not a URL$/,
    ],
    [
      `winsmith.server=tftp://s winsmith.token=${TOKEN} winsmith.deployment=d`,
      /^winsmith\.server is a tftp: URL, expected http or https$/,
    ],
    [
      `winsmith.server=http://u:p@s winsmith.token=${TOKEN} winsmith.deployment=d`,
      /^winsmith\.server carries credentials, a query or a fragment/,
    ],
  ];
  for (const [line, message] of cases) {
    assert.throws(
      () => parseAgentConfig(line),
      (e: unknown) =>
        e instanceof AppError &&
        e.code === 'INVALID_ARGUMENT' &&
        message.test(e.message) &&
        !e.message.includes(TOKEN) &&
        !(e.hint ?? '').includes(TOKEN),
      line,
    );
  }
});
