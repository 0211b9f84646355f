// The files of unpacked Debian packages seen as one merged-/usr system, without installing them: a
// map from each path (with /bin, /sbin, /lib and /lib64 read as /usr/bin, /usr/sbin, /usr/lib and
// /usr/lib64, as on Debian since 12) to the package and the file on disk that hold it. Symbolic links
// are followed inside this map, never on the host.

import { lstat, readdir, readlink } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { AppError } from '../../core/errors.ts';

export type TreeNode =
  | { readonly kind: 'directory'; readonly package: string }
  | { readonly kind: 'file'; readonly package: string; readonly source: string; readonly executable: boolean }
  | { readonly kind: 'symlink'; readonly package: string; readonly target: string };

export interface PackageTree {
  readonly nodes: ReadonlyMap<string, TreeNode>;
  /** Paths two packages both hold as something other than a directory, with the packages. */
  readonly conflicts: ReadonlyMap<string, readonly string[]>;
}

/** The top-level directories that are links into /usr on a merged-/usr system. */
const MERGED = new Set(['bin', 'sbin', 'lib', 'lib64']);

/** Safety limit: more links than this on the way to a file is a loop (the kernel's MAXSYMLINKS). */
export const MAX_SYMLINK_HOPS = 40;

/** `path` (absolute) as on a merged-/usr system: '/lib/x86_64-linux-gnu/libc.so.6' → '/usr/lib/…'. */
export function mergedPath(path: string): string {
  const normal = posix.normalize(path);
  const first = normal.split('/')[1] ?? '';
  return MERGED.has(first) ? `/usr${normal}` : normal;
}

/** Reads the unpacked packages (name → directory) into one tree. */
export async function scanPackageTree(unpacked: ReadonlyMap<string, string>): Promise<PackageTree> {
  const nodes = new Map<string, TreeNode>();
  const conflicts = new Map<string, string[]>();
  const add = (path: string, node: TreeNode): void => {
    const before = nodes.get(path);
    if (before === undefined) nodes.set(path, node);
    else if (before.kind !== 'directory' || node.kind !== 'directory') {
      conflicts.set(path, [...(conflicts.get(path) ?? [before.package]), node.package]);
    }
  };
  const walk = async (pkg: string, root: string, relative: string): Promise<void> => {
    for (const entry of await readdir(join(root, relative), { withFileTypes: true })) {
      const rel = posix.join(relative, entry.name);
      const path = mergedPath(`/${rel}`);
      const source = join(root, rel);
      if (entry.isDirectory()) {
        add(path, { kind: 'directory', package: pkg });
        await walk(pkg, root, rel);
      } else if (entry.isSymbolicLink()) {
        add(path, { kind: 'symlink', package: pkg, target: await readlink(source) });
      } else if (entry.isFile()) {
        const mode = (await lstat(source)).mode;
        add(path, { kind: 'file', package: pkg, source, executable: (mode & 0o111) !== 0 });
      }
    }
  };
  for (const [pkg, dir] of [...unpacked].sort(([a], [b]) => (a < b ? -1 : 1))) await walk(pkg, dir, '');
  return { nodes, conflicts };
}

function notInTree(path: string, why: string): AppError {
  return new AppError('NOT_FOUND', `${path} ${why} in the packages of the lock`, {
    hint: 'check the file lists of src/deploy/bootenv/content.ts against the packages (dpkg-deb -c)',
  });
}

/** Where the link at `link` points, as a merged absolute path. */
export function linkTarget(link: string, target: string): string {
  return mergedPath(target.startsWith('/') ? target : posix.join(posix.dirname(link), target));
}

/**
 * `path` with every link on the way followed, and the links passed through (each as it is, so
 * they can be kept): the path of a directory or file of the tree.
 */
export function resolveTreePath(tree: PackageTree, path: string): { path: string; links: string[] } {
  const links: string[] = [];
  let pending = mergedPath(path)
    .split('/')
    .filter((p) => p !== '');
  let current = '';
  while (pending.length > 0) {
    const [name = '', ...rest] = pending;
    const next = `${current}/${name}`;
    const node = tree.nodes.get(next);
    if (node === undefined) throw notInTree(path, `is not (${next} is missing)`);
    if (node.kind === 'symlink') {
      links.push(next);
      if (links.length > MAX_SYMLINK_HOPS)
        throw notInTree(path, `passes more than ${MAX_SYMLINK_HOPS} links`);
      pending = [
        ...linkTarget(next, node.target)
          .split('/')
          .filter((p) => p !== ''),
        ...rest,
      ];
      current = '';
    } else {
      pending = rest;
      current = next;
    }
  }
  return { path: current === '' ? '/' : current, links };
}

/** The node at `path` exactly (no link followed), or an error naming the path. */
export function treeNode(tree: PackageTree, path: string): TreeNode {
  const node = tree.nodes.get(mergedPath(path));
  if (node === undefined) throw notInTree(path, 'is not');
  const owners = tree.conflicts.get(mergedPath(path));
  if (owners !== undefined) {
    throw new AppError('CONFLICT', `${path} is in more than one package: ${owners.join(', ')}`, {
      hint: 'take the file from one of them (src/deploy/bootenv/content.ts)',
    });
  }
  return node;
}

/** Every path below the directory `dir` (links not followed), sorted. */
export function treePathsUnder(tree: PackageTree, dir: string): string[] {
  const prefix = `${mergedPath(dir).replace(/\/$/, '')}/`;
  return [...tree.nodes.keys()].filter((p) => p.startsWith(prefix)).sort();
}
