// The deploy environment end to end: `winsmith bootenv build` from the repository's lock (packages
// downloaded once into .cache/bootenv-debs and reused by later runs), built again to the same bytes
// as a server builds it on first need; its initramfs read with winsmith's cpio reader and written
// out to check its content, every ELF's libraries (with the environment's own dynamic loader) and
// modules.dep (against kmod's depmod); then booted under QEMU (TCG): the self-test, and the agent
// path ending in a reboot. Consoles are kept in .cache/bootenv-test/.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { link, lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { bootEnvFor, bootLoadersFor, DEFAULT_BOOTENV_LOCK, type BootEnvInfo } from '../../src/app/bootenv.ts';
import { BOOTENV_MODULE_NAMES } from '../../src/deploy/bootenv/content.ts';
import { SELFTEST_PREFIX } from '../../src/deploy/bootenv/init-script.ts';
import { readBootEnvLock } from '../../src/deploy/bootenv/inputs.ts';
import { CPIO_TYPES, cpioPadding } from '../../src/formats/cpio.ts';
import { isElf, readElfDynamic } from '../../src/formats/elf.ts';
import { moduleNameOf } from '../../src/formats/modules-dep.ts';
import { withFileSource } from '../../src/io/file-source.ts';
import { sha256OfFile } from '../../src/io/file-sha256.ts';
import { runWinsmith } from '../helpers/cli.ts';
import { cpioArchive } from '../helpers/cpio.ts';
import { extractInitramfs, kindOf, memberData, readInitramfs, type Initramfs } from './initramfs.ts';
import { bootQemu, qemuUnavailable } from './qemu-boot.ts';

const CACHE = fileURLToPath(new URL('../../.cache/bootenv-debs', import.meta.url));
const LOGS = fileURLToPath(new URL('../../.cache/bootenv-test', import.meta.url));
/** A boot under TCG takes 15–30 s here; this is for a loaded machine, not a normal one. */
const BOOT_TIMEOUT_MS = 300_000;

function missing(program: string, args: string[], pkg: string): string | null {
  return spawnSync(program, args).error === undefined ? null : `${program} is not installed (Debian ${pkg})`;
}
const skip = missing('apt-get', ['--version'], 'apt') ?? missing('dpkg-deb', ['--version'], 'dpkg') ?? false;
const noQemu = skip === false ? (qemuUnavailable() ?? false) : skip;

let work = '';
let first: { dir: string; info: BootEnvInfo } | undefined;
let initramfs: Initramfs | undefined;
let tree = '';

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'winsmith-bootenv-test-'));
});
after(async () => {
  if (work !== '') await rm(work, { recursive: true, force: true });
});

function built(): { dir: string; info: BootEnvInfo } {
  assert.ok(first !== undefined, 'the build test ran first and passed');
  return first;
}

test(
  'bootenv build makes vmlinuz, initrd.img, the signed loaders and bootenv.json; the same lock builds the same bytes',
  { skip },
  async (t) => {
    const dir = join(work, 'a');
    const started = performance.now();
    const run = await runWinsmith(['bootenv', 'build', '-o', dir, '--cache', CACHE, '--json']);
    assert.equal(run.code, 0, run.stderr);
    t.diagnostic(`first build: ${((performance.now() - started) / 1000).toFixed(1)} s`);
    const info = JSON.parse(run.stdout) as BootEnvInfo & { output: string };
    assert.equal(info.output, dir);
    assert.deepEqual((await readdir(dir)).sort(), [
      'bootenv.json',
      'grubx64.efi',
      'initrd.img',
      'shimx64.efi',
      'vmlinuz',
    ]);
    const { output: _, ...described } = info;
    assert.deepEqual(JSON.parse(await readFile(join(dir, 'bootenv.json'), 'utf8')), described);
    for (const name of ['vmlinuz', 'initrd.img', 'shimx64.efi', 'grubx64.efi'] as const) {
      const file = join(dir, name);
      assert.equal((await lstat(file)).size, info.files[name].size, name);
      assert.equal(await sha256OfFile(file), info.files[name].sha256, name);
    }
    const lock = await readBootEnvLock(DEFAULT_BOOTENV_LOCK);
    assert.equal(info.sourceDateEpoch, lock.sourceDateEpoch);
    assert.match(info.kernel.version, /^\d+\.\d+\.\d+-\d+-amd64$/);
    assert.equal(info.kernel.package, `linux-image-${info.kernel.version}`);
    assert.deepEqual(
      info.packages.map((p) => `${p.name}=${p.version}`),
      lock.packages.map((p) => `${p.name}=${p.version}`),
    );
    for (const name of [
      'busybox-static',
      'wimtools',
      'libwim15',
      'ntfs-3g',
      'nbdkit',
      'libnbd-bin',
      'libc6',
    ]) {
      assert.equal(info.packages.find((p) => p.name === name)?.used, true, `${name} is used`);
    }
    assert.equal(
      info.packages.find((p) => p.name === 'linux-base')?.used,
      false,
      'install-time packages are not',
    );
    t.diagnostic(
      `vmlinuz ${info.files.vmlinuz.size} B, initrd.img ${info.files['initrd.img'].size} B (${info.files['initrd.img'].unpackedSize} B unpacked)`,
    );
    first = { dir, info };

    // A server's first need: built under DATA/bootenv once (its packages already in DATA/bootenv/debs,
    // linked from the cache above), found there afterwards; asked for twice at once, built once.
    const data = join(work, 'data');
    await mkdir(join(data, 'bootenv', 'debs'), { recursive: true });
    for (const deb of await readdir(CACHE)) await link(join(CACHE, deb), join(data, 'bootenv', 'debs', deb));
    const restarted = performance.now();
    const [second, same] = await Promise.all([bootEnvFor(data), bootEnvFor(data)]);
    t.diagnostic(`second build (packages cached): ${((performance.now() - restarted) / 1000).toFixed(1)} s`);
    assert.equal(second, same, 'one build for two calls at once');
    assert.equal(second.built, true);
    assert.equal(second.dir, join(data, 'bootenv', info.inputsSha256.slice(0, 16)));
    assert.deepEqual(second.info, described);
    for (const name of ['vmlinuz', 'initrd.img', 'shimx64.efi', 'grubx64.efi', 'bootenv.json']) {
      assert.ok(
        (await readFile(join(dir, name))).equals(await readFile(join(second.dir, name))),
        `${name} is the same`,
      );
    }
    const later = await bootEnvFor(data);
    assert.deepEqual(
      [later.built, later.dir, later.kernel, later.initramfs],
      [false, second.dir, second.kernel, second.initramfs],
    );
    // The loaders alone, as a server takes them out before the environment is built: the same bytes.
    const loaders = await bootLoadersFor(data);
    for (const [name, path] of Object.entries(loaders)) {
      assert.ok((await readFile(join(dir, name))).equals(await readFile(path)), `${name} taken out alone`);
    }
  },
);

test(
  'the initramfs holds /init, busybox, Node, the agent, the tools, the modules and modules.dep; all root-owned, one mtime',
  { skip },
  async () => {
    const { dir, info } = built();
    const read = await readInitramfs(join(dir, 'initrd.img'));
    initramfs = read;
    const { members, byName } = read;
    const text = (name: string): string => {
      const m = byName.get(name);
      assert.ok(m !== undefined, `${name} is in the initramfs`);
      return new TextDecoder().decode(memberData(read, m));
    };
    const names = members.map((m) => m.name);
    assert.deepEqual(names, [...names].sort(), 'members are in path order');
    const base = `usr/lib/modules/${info.kernel.version}`;
    for (const name of [
      'init',
      'usr/bin/busybox',
      'usr/bin/node',
      'winsmith/agent.mjs',
      'winsmith/udhcpc.script',
      'usr/bin/wimlib-imagex',
      'usr/sbin/mkntfs',
      'usr/bin/ntfs-3g',
      'usr/bin/lowntfs-3g',
      'usr/bin/nbdkit',
      'usr/lib/x86_64-linux-gnu/nbdkit/plugins/nbdkit-curl-plugin.so',
      'usr/bin/nbdfuse',
      'usr/bin/fusermount3',
      'usr/bin/udp-receiver',
      'usr/sbin/sgdisk',
      'usr/sbin/sfdisk',
      'usr/sbin/mkfs.fat',
      'usr/bin/mcopy',
      'usr/bin/grub-mkimage',
      'usr/lib/grub/i386-pc/boot.img',
      `${base}/modules.dep`,
      `${base}/modules.builtin`,
    ]) {
      assert.ok(byName.has(name), `${name} is in the initramfs`);
    }
    const init = byName.get('init');
    assert.equal(init?.mode, CPIO_TYPES.S_IFREG | 0o755);
    assert.match(text('init'), /^#!\/usr\/bin\/busybox sh\n/);
    const console = byName.get('dev/console');
    assert.deepEqual(
      [console?.mode, console?.rdevMajor, console?.rdevMinor],
      [CPIO_TYPES.S_IFCHR | 0o600, 5, 1],
    );
    for (const dir of ['bin', 'sbin', 'lib', 'lib64']) {
      const link = byName.get(dir);
      assert.ok(link !== undefined && kindOf(link) === CPIO_TYPES.S_IFLNK, `/${dir} is a link`);
      assert.equal(new TextDecoder().decode(memberData(read, link)), `usr/${dir}`);
    }
    assert.ok(members.every((m) => m.uid === 0 && m.gid === 0 && m.mtime === info.sourceDateEpoch));
    assert.equal(new Set(members.map((m) => m.ino)).size, members.length, 'inode numbers are unique');

    const dep = text(`${base}/modules.dep`);
    const listed = new Set(
      dep
        .trimEnd()
        .split('\n')
        .map((l) => moduleNameOf(l.slice(0, l.indexOf(':')))),
    );
    for (const name of BOOTENV_MODULE_NAMES) {
      assert.ok(
        listed.has(name) || info.modules.builtin.includes(name),
        `module ${name} is shipped or built in`,
      );
    }
    for (const line of dep.trimEnd().split('\n')) {
      for (const path of line.replace(':', '').split(' '))
        assert.ok(byName.has(`${base}/${path}`), `${path} is shipped`);
    }
    const loaded = text('winsmith/modules');
    assert.deepEqual(loaded.trimEnd().split('\n'), info.modules.loaded);
    assert.ok(info.modules.loaded.includes('virtio_net') && info.modules.loaded.includes('fuse'));
  },
);

/** `path` of the extracted tree with links followed inside it (absolute targets from its root). */
async function resolveIn(root: string, path: string): Promise<string> {
  let current = '/';
  let pending = path.split('/').filter((p) => p !== '');
  for (let hops = 0; pending.length > 0;) {
    const [name = '', ...rest] = pending;
    const next = posix.join(current, name);
    const stat = await lstat(join(root, next));
    if (stat.isSymbolicLink()) {
      assert.ok(++hops <= 40, `${path}: too many links`);
      const target = await readlink(join(root, next));
      pending = [...target.split('/').filter((p) => p !== ''), ...rest];
      current = target.startsWith('/') ? '/' : current;
    } else {
      current = next;
      pending = rest;
    }
  }
  return current;
}

test(
  "every program and library finds its loader and libraries in the initramfs (its own ld.so's --list)",
  { skip },
  async () => {
    assert.ok(initramfs !== undefined, 'the listing test ran first');
    tree = join(work, 'tree');
    await extractInitramfs(initramfs, tree);
    const loader = join(tree, await resolveIn(tree, '/lib64/ld-linux-x86-64.so.2'));
    const libraryPath = ['/usr/lib/x86_64-linux-gnu', '/usr/lib'].map((d) => join(tree, d)).join(':');
    let checked = 0;
    for (const m of initramfs.members) {
      if (kindOf(m) !== CPIO_TYPES.S_IFREG) continue;
      const head = memberData(initramfs, m).subarray(0, 18);
      const type = (head[16] ?? 0) | ((head[17] ?? 0) << 8);
      if (!isElf(head) || head[4] !== 2 || (type !== 2 && type !== 3)) continue;
      const file = join(tree, m.name);
      const { interpreter, needed } = await withFileSource(file, readElfDynamic);
      if (interpreter === null && needed.length === 0) continue; // static, as busybox is
      const run = spawnSync(loader, ['--inhibit-cache', '--library-path', libraryPath, '--list', file]);
      const out = run.stdout.toString('utf8');
      assert.equal(run.status, 0, `${m.name}: ${run.stderr.toString()}${out}`);
      for (const line of out.split('\n').filter((l) => l.includes('=>'))) {
        const found = /=> (\S+)/.exec(line)?.[1] ?? '';
        assert.ok(found.startsWith(`${tree}/`), `${m.name}: ${line.trim()} is not in the initramfs`);
      }
      checked += 1;
    }
    assert.ok(checked > 50, `${checked} ELF files checked`);
  },
);

test(
  "modules.dep lists what kmod's depmod finds in the same modules, each before what it needs",
  { skip: skip === false ? (missing('depmod', ['--version'], 'kmod') ?? false) : skip },
  async () => {
    const { info } = built();
    assert.ok(tree !== '', 'the ELF test wrote the tree out');
    const base = join(tree, 'usr/lib/modules', info.kernel.version);
    const parse = (text: string): Map<string, string[]> =>
      new Map(
        text
          .trimEnd()
          .split('\n')
          .map((l) => {
            const [path = '', deps = ''] = l.split(':');
            return [path, deps.trim() === '' ? [] : deps.trim().split(' ')];
          }),
      );
    const ours = parse(await readFile(join(base, 'modules.dep'), 'utf8'));
    const depmod = spawnSync('depmod', ['-b', tree, '-n', info.kernel.version]);
    assert.equal(depmod.status, 0, depmod.stderr.toString());
    const theirs = parse(depmod.stdout.toString().split('\n# ')[0] ?? '');
    assert.deepEqual([...ours.keys()].sort(), [...theirs.keys()].sort());
    for (const [path, deps] of ours) {
      assert.deepEqual([...deps].sort(), [...(theirs.get(path) ?? [])].sort(), path);
      deps.forEach((a, i) =>
        deps
          .slice(i + 1)
          .forEach((b) =>
            assert.ok(!(ours.get(b) ?? []).includes(a), `${path}: ${b} needs ${a} and comes after it`),
          ),
      );
    }
  },
);

test(
  'it boots under QEMU (TCG), gets a DHCP lease, passes its self-test and powers off',
  { skip: noQemu },
  async (t) => {
    const { dir } = built();
    const nonce = randomBytes(8).toString('hex');
    const secret = randomBytes(8).toString('hex');
    const boot = await bootQemu({
      kernel: join(dir, 'vmlinuz'),
      initrd: join(dir, 'initrd.img'),
      append: `console=ttyS0 panic=1 winsmith.selftest=1 winsmith.deployment=${nonce} winsmith.token=${secret}`,
      nic: true,
      logFile: join(LOGS, 'selftest.log'),
      timeoutMs: BOOT_TIMEOUT_MS,
    });
    t.diagnostic(`boot to self-test and power-off under TCG: ${boot.seconds.toFixed(1)} s`);
    const where = `console in ${join(LOGS, 'selftest.log')}`;
    assert.equal(boot.exitCode, 0, `QEMU ended by itself (${where})`);
    const lines = boot.console
      .split(/\r?\n/)
      .filter((l) => l.startsWith(SELFTEST_PREFIX))
      .map((l) => l.slice(SELFTEST_PREFIX.length + 1));
    assert.equal(lines.at(-1), 'end', where);
    const field = (name: string): string =>
      lines.find((l) => l.startsWith(`${name}: `))?.slice(name.length + 2) ?? '';
    assert.match(
      field('cmdline'),
      new RegExp(`winsmith\\.deployment=${nonce} winsmith\\.token=\\(set\\)$`),
      'this boot, the token masked',
    );
    assert.ok(!field('cmdline').includes(secret));
    assert.match(field('node'), /^rc=0 v24\./);
    assert.equal(field('agent-syntax'), 'rc=0 ');
    assert.match(field('wimlib-imagex'), /^rc=0 wimlib-imagex 1\./);
    assert.match(field('mkntfs'), /^rc=0 mkntfs v\d/);
    assert.match(field('ntfs-3g'), /^rc=0 ntfs-3g \d/);
    assert.match(field('lowntfs-3g'), /^rc=0 lowntfs-3g \d/);
    assert.match(field('sgdisk'), /^rc=0 GPT fdisk \(sgdisk\)/);
    assert.match(field('sfdisk'), /^rc=0 sfdisk from util-linux/);
    assert.match(field('mkfs.fat'), /^rc=0 mkfs\.fat \d/);
    assert.match(field('mtools'), /^rc=0 mtools \(GNU mtools\)/);
    assert.match(field('grub-mkimage'), /^rc=0 grub-mkimage \(GRUB\)/);
    assert.match(field('nbdkit'), /^rc=0 nbdkit 1\./);
    assert.match(field('nbdkit-curl'), /^rc=0 curl 1\./, 'the curl plugin loads with its libraries');
    assert.match(field('nbdfuse'), /^rc=0 nbdfuse 1\./);
    assert.match(field('setpriv'), /^rc=0 setpriv from util-linux/);
    assert.match(field('fuse'), /^rc=0 crw.* 10, +229 .*\/dev\/fuse$/);
    assert.equal(
      field('fuse-nbd'),
      'rc=0 1048576 bytes, read back winsmith',
      'a FUSE file over an nbdkit disk',
    );
    assert.match(
      lines.find((l) => l.startsWith('nic ')) ?? '',
      /^nic eth0 52:54:00:12:34:56 10\.0\.2\.15\/24$/,
    );
    assert.equal(field('lease'), 'eth0');
    assert.ok(!boot.console.includes('Kernel panic'), where);
  },
);

test(
  'without the self-test it runs the agent with the console as its output, then reboots',
  { skip: noQemu },
  async (t) => {
    const { dir } = built();
    const nonce = randomBytes(8).toString('hex');
    // An agent that proves it ran in this boot and fails: /init must reboot, not hang. It replaces
    // the built one from a second archive after the first, as the kernel reads them in order.
    const agent = `import { readFileSync } from 'node:fs';\nconsole.log('test agent', readFileSync('/proc/cmdline', 'utf8').match(/winsmith\\.deployment=(\\S+)/)[1]);\nprocess.exit(3);\n`;
    const initrd = join(work, 'with-test-agent.img');
    // The kernel reads an archive that follows a compressed one only from a 4-byte boundary.
    const image = await readFile(join(dir, 'initrd.img'));
    const gap = Buffer.alloc(cpioPadding(image.byteLength));
    await writeFile(
      initrd,
      Buffer.concat([
        image,
        gap,
        cpioArchive([{ name: 'winsmith/agent.mjs', mode: CPIO_TYPES.S_IFREG | 0o644, data: agent }]),
      ]),
    );
    const boot = await bootQemu({
      kernel: join(dir, 'vmlinuz'),
      initrd,
      append: `console=ttyS0 panic=1 winsmith.deployment=${nonce} winsmith.dhcptimeout=10`,
      nic: false,
      logFile: join(LOGS, 'agent.log'),
      timeoutMs: BOOT_TIMEOUT_MS,
    });
    t.diagnostic(`boot to the agent and reboot under TCG: ${boot.seconds.toFixed(1)} s`);
    const where = `console in ${join(LOGS, 'agent.log')}`;
    assert.equal(boot.exitCode, 0, `QEMU ended by itself (${where})`);
    const order = [
      'winsmith: no network interface',
      'winsmith: starting the agent',
      `test agent ${nonce}`,
      'winsmith: the agent ended (exit 3)',
      'winsmith: rebooting',
      'reboot: Restarting system',
    ];
    let at = 0;
    for (const line of order) {
      const found = boot.console.indexOf(line, at);
      assert.ok(found >= 0, `"${line}" follows in the console (${where})`);
      at = found;
    }
  },
);
