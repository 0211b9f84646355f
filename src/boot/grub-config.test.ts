import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { GRUB_MAIN_CONFIG, parseGrubRequest, renderGrubConfig } from './grub-config.ts';

const machine = { mac: '52:54:00:12:34:56' };
const nonce = '0123abcd';
const start = {
  kind: 'start',
  kernel: 'winsmith-0123-vmlinuz',
  initrd: 'winsmith-0123-initrd.img',
  cmdline: 'console=ttyS0 winsmith.server=http://10.99.0.1:8080 winsmith.token=wsa_abc-_9',
} as const;

/** The commands of a config, comments and echo lines left out. */
function commands(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#') && !l.startsWith('echo '))
    .map((l) => l.split(' ')[0] ?? '');
}

test('the fixed grub.cfg reads the machine config by MAC again while asked, then returns to the firmware', () => {
  assert.match(GRUB_MAIN_CONFIG, /^ {2}source "\$prefix\/winsmith\/machine\/\$net_default_mac"$/m);
  assert.match(GRUB_MAIN_CONFIG, /^while \[ "\$winsmith_again" = y \]; do$/m);
  assert.equal(GRUB_MAIN_CONFIG.trimEnd().split('\n').at(-1), 'exit');
});

test('no deployment: check in with the lockdown state, then back to the firmware', () => {
  const { action, text } = renderGrubConfig(machine, { checkInNonce: nonce });
  assert.equal(action, 'local-boot');
  assert.ok(text.includes(`source "$prefix/winsmith/hello/${machine.mac}/${nonce}/sb-$lockdown"\n`));
  assert.deepEqual(commands(text), ['source', 'exit']);
  const checkIn = parseGrubRequest(`grub/winsmith/hello/${machine.mac}/${nonce}/sb-y`);
  assert.deepEqual(checkIn, { kind: 'check-in', mac: machine.mac, nonce, secureBoot: true });
  assert.deepEqual(parseGrubRequest(`grub/winsmith/hello/${machine.mac}/${nonce}/sb-`), {
    kind: 'check-in',
    mac: machine.mac,
    nonce,
    secureBoot: false,
  });
});

test('an unregistered machine does not check in', () => {
  const { text } = renderGrubConfig(machine, { checkInNonce: null });
  assert.deepEqual(commands(text), ['exit']);
});

test('a deployment to start: the signed kernel and the initrd from the TFTP root, with its command line', () => {
  const { action, text } = renderGrubConfig(machine, {
    checkInNonce: nonce,
    deployment: { id: 'd-7', ...start },
  });
  assert.equal(action, 'deploy');
  assert.deepEqual(commands(text), ['source', 'linux', 'initrd', 'boot', 'exit']);
  assert.ok(text.includes(`\nlinux /${start.kernel} ${start.cmdline}\ninitrd /${start.initrd}\nboot\n`));
});

test('while the environment is prepared: the config asked for again at once (the server paces it)', () => {
  const { action, text } = renderGrubConfig(machine, {
    checkInNonce: nonce,
    deployment: { id: 'd-7', kind: 'preparing' },
  });
  assert.equal(action, 'deploy-preparing');
  assert.deepEqual(text.trimEnd().split('\n').slice(-2), [
    'echo "winsmith: deployment d-7: the deploy environment is being prepared, asking again"',
    'set winsmith_again=y',
  ]);
  assert.ok(!text.includes('sleep'));
  assert.ok(!text.includes('exit'));
});

test('under way: back to the firmware', () => {
  const { action, text } = renderGrubConfig(machine, {
    checkInNonce: nonce,
    deployment: { id: 'd-7', kind: 'under-way' },
  });
  assert.equal(action, 'deploy-under-way');
  assert.deepEqual(commands(text), ['source', 'exit']);
});

test('hostile values cannot add a command, an expansion, a quote or a line', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (id, mac) => {
      const { text } = renderGrubConfig(
        { mac },
        { checkInNonce: nonce, deployment: { id, kind: 'under-way' } },
      );
      const lines = text.split('\n');
      assert.equal(lines.length, 7);
      assert.deepEqual(commands(text), ['source', 'exit']);
      // Only the config's own expansions; each echo line one double-quoted word.
      assert.ok(!text.replace(/\$(prefix|lockdown|grub_platform)\b/g, '').includes('$'));
      for (const line of lines.filter((l) => l.startsWith('echo '))) assert.match(line, /^echo "[^"\\]*"$/);
    }),
  );
  for (const bad of [
    { ...start, cmdline: 'x; reboot' },
    { ...start, cmdline: 'x $prefix' },
    { ...start, kernel: '../x' },
    { ...start, initrd: 'a b' },
  ]) {
    assert.throws(
      () => renderGrubConfig(machine, { checkInNonce: nonce, deployment: { id: 'd', ...bad } }),
      (e: unknown) => e instanceof Error && 'code' in e && e.code === 'INVALID_ARGUMENT',
    );
  }
  assert.throws(() => renderGrubConfig(machine, { checkInNonce: '"; reboot' }));
});

test('only the names GRUB asks for are requests; anything else is a file of the root', () => {
  assert.deepEqual(parseGrubRequest(`grub/winsmith/machine/${machine.mac}`), {
    kind: 'config',
    mac: machine.mac,
  });
  for (const other of [
    'grub/grub.cfg',
    'grub/winsmith/machine/52:54:00:12:34',
    'grub/winsmith/machine/52:54:00:12:34:56/x',
    'grub/winsmith/machine/52:54:00:AB:34:56',
    `grub/winsmith/hello/${machine.mac}/${nonce}/sb-n`,
    `grub/winsmith/hello/${machine.mac}/xyz/sb-y`,
    'shimx64.efi',
  ]) {
    assert.equal(parseGrubRequest(other), null, other);
  }
});
