import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  bootText as ipxeText,
  BOOT_TEXT_MAX as IPXE_TEXT_MAX,
  PREPARING_RETRY_SECONDS,
} from './boot-action.ts';
import { localBootCommand, renderIpxeScript } from './ipxe-script.ts';
import { ipxeScriptUrl, IPXE_SCRIPT_QUERY } from './boot-url.ts';

const machine = { mac: '52:54:00:12:34:56', uuid: null, platform: 'pcbios' };
const options = { httpBase: 'http://10.99.0.1:8080/', checkInNonce: '0123abcd' };

test('a machine without a deployment boots from the local disk, BIOS way', () => {
  const { action, text } = renderIpxeScript(machine, options);
  assert.equal(action, 'local-boot');
  const lines = text.split('\n');
  assert.equal(lines[0], '#!ipxe');
  assert.ok(
    text.includes(
      'imgfetch --name winsmith-checkin http://10.99.0.1:8080/boot/hello?mac=52%3A54%3A00%3A12%3A34%3A56&nonce=0123abcd',
    ),
  );
  assert.equal(lines.at(-2), 'sanboot --no-describe --drive 0x80');
  assert.ok(text.endsWith('\n'));
});

test('UEFI machines leave iPXE with exit; anything else the BIOS way', () => {
  assert.equal(localBootCommand('efi'), 'exit');
  assert.equal(localBootCommand('pcbios'), 'sanboot --no-describe --drive 0x80');
  assert.equal(localBootCommand(null), 'sanboot --no-describe --drive 0x80');
  const { text } = renderIpxeScript({ ...machine, platform: 'efi' }, options);
  assert.equal(text.trimEnd().split('\n').at(-1), 'exit');
});

test('a deployment under way already is named and the machine boots local', () => {
  const { action, text } = renderIpxeScript(machine, {
    ...options,
    deployment: { id: 'dep-42', kind: 'under-way' },
  });
  assert.equal(action, 'deploy-under-way');
  assert.ok(text.includes('echo winsmith: deployment dep-42 is under way already'));
  assert.equal(text.trimEnd().split('\n').at(-1), 'sanboot --no-describe --drive 0x80');
  const commands = text
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#') && !l.startsWith('echo '))
    .map((l) => l.split(' ')[0]);
  assert.deepEqual(commands, ['imgfetch', 'sanboot']);
});

test('while the deploy environment is prepared the machine waits and asks for its script again', () => {
  const { action, text } = renderIpxeScript(machine, {
    ...options,
    deployment: { id: 'dep-42', kind: 'preparing' },
  });
  assert.equal(action, 'deploy-preparing');
  const lines = text.trimEnd().split('\n');
  assert.deepEqual(lines.slice(-2), [
    `sleep ${PREPARING_RETRY_SECONDS}`,
    `chain --autofree ${ipxeScriptUrl(options.httpBase)}`,
  ]);
  assert.ok(!text.includes('sanboot'));
});

const start = {
  kind: 'start',
  kernel: 'winsmith-bootenv-vmlinuz',
  initrd: 'winsmith-bootenv-initrd.img',
  cmdline: 'console=ttyS0 winsmith.server=http://10.99.0.1:8080 winsmith.token=wsa_abc-_9',
} as const;

test('a deployment to start boots the deploy environment with its command line', () => {
  const { action, text } = renderIpxeScript(machine, { ...options, deployment: { id: 'dep-7', ...start } });
  assert.equal(action, 'deploy');
  const lines = text.trimEnd().split('\n');
  assert.deepEqual(lines.slice(-3), [
    `kernel http://10.99.0.1:8080/boot/files/${start.kernel} initrd=initrd.img ${start.cmdline}`,
    `initrd --name initrd.img http://10.99.0.1:8080/boot/files/${start.initrd}`,
    'boot || echo winsmith: the deploy environment did not start',
  ]);
  assert.ok(!text.includes('sanboot'));
});

test('a command line with script characters is refused, not rendered; file names are percent-encoded', () => {
  const { text } = renderIpxeScript(machine, {
    ...options,
    deployment: { id: 'd', ...start, kernel: 'a b', initrd: '${y}' },
  });
  assert.ok(text.includes('/boot/files/a%20b initrd=initrd.img'));
  assert.ok(text.includes('/boot/files/%24%7By%7D\n'));
  for (const bad of [
    { ...start, cmdline: 'x ${net0/ip}' },
    { ...start, cmdline: 'x || shell' },
  ]) {
    assert.throws(
      () => renderIpxeScript(machine, { ...options, deployment: { id: 'd', ...bad } }),
      (e: unknown) => e instanceof Error && 'code' in e && e.code === 'INVALID_ARGUMENT',
    );
  }
});

test('untrusted text cannot add an expansion, a command, a comment or a line', () => {
  assert.equal(ipxeText('${net0/ip} || shell'), '__net0/ip_ __ shell');
  assert.equal(ipxeText('a\nb#c;d"e\'f\\g&h'), 'a_b_c_d_e_f_g_h');
  assert.equal(ipxeText('x'.repeat(500)).length, IPXE_TEXT_MAX);
  fc.assert(
    fc.property(fc.string({ unit: 'binary' }), (s) => {
      const t = ipxeText(s);
      assert.match(t, /^[A-Za-z0-9 ._:/@+,=-]*$/);
      assert.ok(t.length <= IPXE_TEXT_MAX);
    }),
  );
  fc.assert(
    fc.property(fc.string({ unit: 'binary' }), (id) => {
      const { text } = renderIpxeScript(machine, { ...options, deployment: { id, kind: 'under-way' } });
      const lines = text.split('\n');
      assert.equal(lines.length, 8);
      assert.ok(!text.replace(/\$\{(platform|buildarch)\}/g, '').includes('$'));
    }),
  );
});

test('a boot URL that is not plain http is refused', () => {
  assert.throws(
    () => renderIpxeScript(machine, { ...options, httpBase: 'http://x/${net0/ip}' }),
    (e: unknown) => e instanceof Error && 'code' in e && e.code === 'INVALID_ARGUMENT',
  );
  assert.throws(() => renderIpxeScript(machine, { ...options, httpBase: 'ftp://x' }));
});

test('the chain URL carries every query name with its iPXE expansion', () => {
  const url = ipxeScriptUrl('http://10.0.0.1:8080/');
  assert.equal(
    url,
    'http://10.0.0.1:8080/boot/ipxe?mac=${net0/mac:hexhyp}&uuid=${uuid}&serial=${serial:uristring}' +
      '&manufacturer=${manufacturer:uristring}&product=${product:uristring}&buildarch=${buildarch}&platform=${platform}',
  );
  assert.deepEqual(Object.keys(IPXE_SCRIPT_QUERY).length, 7);
});
