import assert from 'node:assert/strict';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { AppError } from '../../core/errors.ts';
import { withTempDir } from '../../io/output.ts';
import {
  linkTarget,
  mergedPath,
  resolveTreePath,
  scanPackageTree,
  treeNode,
  treePathsUnder,
  type PackageTree,
  type TreeNode,
} from './package-tree.ts';

function tree(entries: Record<string, TreeNode>, conflicts: Record<string, string[]> = {}): PackageTree {
  return { nodes: new Map(Object.entries(entries)), conflicts: new Map(Object.entries(conflicts)) };
}
const dir = (pkg = 'libc6'): TreeNode => ({ kind: 'directory', package: pkg });
const file = (pkg = 'libc6'): TreeNode => ({
  kind: 'file',
  package: pkg,
  source: `/x/${pkg}`,
  executable: false,
});
const link = (target: string, pkg = 'libc6'): TreeNode => ({ kind: 'symlink', package: pkg, target });

const LIBC = tree({
  '/usr': dir(),
  '/usr/lib': dir(),
  '/usr/lib64': dir(),
  '/usr/lib64/ld-linux-x86-64.so.2': link('/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2'),
  '/usr/lib/x86_64-linux-gnu': dir(),
  '/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2': file(),
  '/usr/lib/x86_64-linux-gnu/libz.so.1': link('libz.so.1.2.13', 'zlib1g'),
  '/usr/lib/x86_64-linux-gnu/libz.so.1.2.13': file('zlib1g'),
  '/usr/lib/x86_64-linux-gnu/loop': link('loop'),
  '/usr/lib/x86_64-linux-gnu/gone': link('../nothing'),
});

test('/bin, /sbin, /lib and /lib64 are read as their /usr directories, as on Debian 12', () => {
  assert.equal(mergedPath('/lib/x86_64-linux-gnu/libc.so.6'), '/usr/lib/x86_64-linux-gnu/libc.so.6');
  assert.equal(mergedPath('/sbin/mkntfs'), '/usr/sbin/mkntfs');
  assert.equal(mergedPath('/bin'), '/usr/bin');
  assert.equal(mergedPath('/lib64/../lib/x'), '/usr/lib/x');
  assert.equal(mergedPath('/usr/lib/x'), '/usr/lib/x');
  assert.equal(mergedPath('/library/x'), '/library/x');
  assert.equal(
    linkTarget('/usr/lib/x86_64-linux-gnu/libz.so.1', 'libz.so.1.2.13'),
    '/usr/lib/x86_64-linux-gnu/libz.so.1.2.13',
  );
  assert.equal(linkTarget('/usr/lib64/ld.so', '/lib/ld.so'), '/usr/lib/ld.so');
});

test('a path is followed through its links to a file of the tree, keeping the links passed', () => {
  assert.deepEqual(resolveTreePath(LIBC, '/lib64/ld-linux-x86-64.so.2'), {
    path: '/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2',
    links: ['/usr/lib64/ld-linux-x86-64.so.2'],
  });
  assert.deepEqual(resolveTreePath(LIBC, '/usr/lib/x86_64-linux-gnu/libz.so.1'), {
    path: '/usr/lib/x86_64-linux-gnu/libz.so.1.2.13',
    links: ['/usr/lib/x86_64-linux-gnu/libz.so.1'],
  });
  assert.deepEqual(resolveTreePath(LIBC, '/usr/lib/'), { path: '/usr/lib', links: [] });
});

test('a missing path, a dangling link and a loop of links are errors naming the path', () => {
  assert.throws(
    () => resolveTreePath(LIBC, '/usr/lib/x86_64-linux-gnu/libfoo.so.1'),
    (e: AppError) =>
      e.code === 'NOT_FOUND' &&
      e.message ===
        '/usr/lib/x86_64-linux-gnu/libfoo.so.1 is not (/usr/lib/x86_64-linux-gnu/libfoo.so.1 is missing) in the packages of the lock',
  );
  assert.throws(
    () => resolveTreePath(LIBC, '/usr/lib/x86_64-linux-gnu/gone'),
    /gone is not \(\/usr\/lib\/nothing is missing\)/,
  );
  assert.throws(
    () => resolveTreePath(LIBC, '/usr/lib/x86_64-linux-gnu/loop'),
    /loop passes more than 40 links/,
  );
});

test('a file two packages hold is refused where it is taken', () => {
  const both = tree(
    { '/usr': dir(), '/usr/bin': dir(), '/usr/bin/fdisk': file('fdisk') },
    { '/usr/bin/fdisk': ['busybox', 'fdisk'] },
  );
  assert.throws(
    () => treeNode(both, '/bin/fdisk'),
    /\/bin\/fdisk is in more than one package: busybox, fdisk/,
  );
  assert.deepEqual(treePathsUnder(LIBC, '/lib64/'), ['/usr/lib64/ld-linux-x86-64.so.2']);
});

test('unpacked packages are scanned into one merged tree: files, links, directories, and conflicts', async () => {
  await withTempDir(async (root) => {
    const unpack = async (pkg: string, files: Record<string, string>, links: Record<string, string> = {}) => {
      for (const [path, text] of Object.entries(files)) {
        await mkdir(join(root, pkg, path, '..'), { recursive: true });
        await writeFile(join(root, pkg, path), text, { mode: path.includes('bin') ? 0o755 : 0o644 });
      }
      for (const [path, target] of Object.entries(links)) {
        await mkdir(join(root, pkg, path, '..'), { recursive: true });
        await symlink(target, join(root, pkg, path));
      }
      return [pkg, join(root, pkg)] as const;
    };
    const scanned = await scanPackageTree(
      new Map([
        await unpack(
          'libc6',
          { 'lib/x86_64-linux-gnu/libc.so.6': 'c' },
          { 'lib64/ld.so': '/lib/x86_64-linux-gnu/ld.so' },
        ),
        await unpack('ntfs-3g', { 'sbin/mkntfs': 'm', 'usr/share/doc/ntfs-3g/copyright': 'x' }),
        await unpack('other', { 'usr/sbin/mkntfs': 'n' }),
      ]),
    );
    assert.deepEqual(scanned.nodes.get('/usr/lib/x86_64-linux-gnu/libc.so.6'), {
      kind: 'file',
      package: 'libc6',
      source: join(root, 'libc6', 'lib/x86_64-linux-gnu/libc.so.6'),
      executable: false,
    });
    assert.deepEqual(scanned.nodes.get('/usr/lib64/ld.so'), {
      kind: 'symlink',
      package: 'libc6',
      target: '/lib/x86_64-linux-gnu/ld.so',
    });
    assert.equal(scanned.nodes.get('/usr/sbin/mkntfs')?.kind, 'file');
    assert.deepEqual(scanned.conflicts.get('/usr/sbin/mkntfs'), ['ntfs-3g', 'other']);
    assert.equal(scanned.conflicts.has('/usr/share'), false, 'directories both hold are not conflicts');
  });
});
