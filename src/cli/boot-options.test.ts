import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bootSettingsOf } from './boot-options.ts';

test('boot is off unless a boot option is given', () => {
  assert.equal(bootSettingsOf({ data: '/d' }, '/d'), null);
});

test('boot options make boot settings; the boot root defaults under the data directory', () => {
  assert.deepEqual(bootSettingsOf({ tftp: '10.0.0.1:69' }, '/srv/w'), {
    bootRoot: '/srv/w/boot',
    ipxeDir: null,
    tftp: { host: '10.0.0.1', port: 69, maxTimeoutSeconds: null, maxPerAddress: null },
    httpBase: null,
    dhcp: null,
    deployEnvironment: null,
    uefiChain: 'auto',
  });
  assert.deepEqual(
    bootSettingsOf(
      { bootRoot: '/b', ipxeDir: '/signed', bootUrl: 'http://10.0.0.1:8080', bootenv: '/srv/env' },
      '/srv/w',
    ),
    {
      bootRoot: '/b',
      ipxeDir: '/signed',
      tftp: null,
      httpBase: 'http://10.0.0.1:8080',
      dhcp: null,
      deployEnvironment: '/srv/env',
      uefiChain: 'auto',
    },
  );
});

test('--uefi-chain forces a chain over the config; anything else is refused naming the option', () => {
  assert.equal(bootSettingsOf({ tftp: '10.0.0.1:69', uefiChain: 'shim' }, '/d', 'ipxe')?.uefiChain, 'shim');
  assert.equal(bootSettingsOf({ tftp: '10.0.0.1:69' }, '/d', 'ipxe')?.uefiChain, 'ipxe');
  assert.throws(
    () => bootSettingsOf({ tftp: '10.0.0.1:69', uefiChain: 'grub' }, '/d'),
    /^AppError: --uefi-chain: expected auto, shim or ipxe, found 'grub'$/,
  );
});

test('--tftp-max-timeout and --tftp-per-client set the TFTP limits; bad values are refused naming the option', () => {
  assert.deepEqual(
    bootSettingsOf({ tftp: '10.0.0.1:69', tftpMaxTimeout: '3', tftpPerClient: '2' }, '/d')?.tftp,
    { host: '10.0.0.1', port: 69, maxTimeoutSeconds: 3, maxPerAddress: 2 },
  );
  for (const bad of ['0', '256', 'x', '5.5']) {
    assert.throws(
      () => bootSettingsOf({ tftp: '10.0.0.1:69', tftpMaxTimeout: bad }, '/d'),
      /--tftp-max-timeout: expected a whole number in 1-255/,
      bad,
    );
  }
  assert.throws(() => bootSettingsOf({ tftpPerClient: '4' }, '/d'), /--tftp is not given/);
  assert.throws(
    () => bootSettingsOf({ tftp: '10.0.0.1:69', tftpPerClient: '0' }, '/d'),
    /--tftp-per-client: expected a whole number in 1-65535, found '0'/,
  );
});

test('bad --tftp and --boot-url values are refused naming the option', () => {
  assert.throws(() => bootSettingsOf({ tftp: '10.0.0.1' }, '/d'), /--tftp: expected HOST:PORT/);
  for (const url of ['https://x', 'http://x/path', 'ftp://x', 'http://x?y']) {
    assert.throws(() => bootSettingsOf({ bootUrl: url }, '/d'), /--boot-url: expected http:\/\/HOST/, url);
  }
});

test('--dhcp proxy needs --interface; full needs --dhcp-range too', () => {
  assert.deepEqual(bootSettingsOf({ dhcp: 'proxy', interface: 'br0' }, '/d')?.dhcp, {
    mode: 'proxy',
    interface: 'br0',
    range: null,
    leaseSeconds: 3600,
  });
  assert.deepEqual(
    bootSettingsOf({ dhcp: 'full', interface: 'br0', dhcpRange: '10.0.0.100-10.0.0.199' }, '/d')?.dhcp?.range,
    { start: '10.0.0.100', end: '10.0.0.199' },
  );
  assert.equal(bootSettingsOf({ dhcp: 'off' }, '/d'), null);
  assert.throws(() => bootSettingsOf({ dhcp: 'proxy' }, '/d'), /--dhcp proxy needs --interface/);
  assert.throws(
    () => bootSettingsOf({ dhcp: 'full', interface: 'br0' }, '/d'),
    /--dhcp full needs --dhcp-range/,
  );
  assert.throws(() => bootSettingsOf({ dhcp: 'on', interface: 'br0' }, '/d'), /expected off, proxy or full/);
  assert.throws(() =>
    bootSettingsOf({ dhcp: 'proxy', interface: 'br0', dhcpRange: '1.1.1.1-1.1.1.2' }, '/d'),
  );
});
