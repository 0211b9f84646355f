// What goes into the initramfs, worked out from the unpacked packages: the files content.ts names,
// every library they need (followed through ELF DT_NEEDED and the loader's search path, which is what
// the dynamic loader will do at run time), the kernel modules with their dependencies and a
// modules.dep, Node and the agent, /init and the few files of /etc. Nothing is written here.

import { posix } from 'node:path';
import { AppError } from '../../core/errors.ts';
import { EM_X86_64, ET, isElf, readElfDynamic, readElfSection } from '../../formats/elf.ts';
import {
  moduleNameOf,
  parseDepends,
  parseModinfo,
  renderModulesDep,
  type KernelModule,
} from '../../formats/modules-dep.ts';
import { withFileSource } from '../../io/file-source.ts';
import { INIT_SCRIPT, UDHCPC_SCRIPT } from './init-script.ts';
import { resolveTreePath, treeNode, treePathsUnder, type PackageTree } from './package-tree.ts';

export type EnvEntry =
  | { readonly kind: 'directory'; readonly path: string }
  | { readonly kind: 'file'; readonly path: string; readonly executable: boolean; readonly source: string }
  | { readonly kind: 'data'; readonly path: string; readonly executable: boolean; readonly data: Uint8Array }
  | { readonly kind: 'symlink'; readonly path: string; readonly target: string }
  | { readonly kind: 'char-device'; readonly path: string; readonly major: number; readonly minor: number };

export interface PlanInput {
  readonly tree: PackageTree;
  /** content.ts's files by package. */
  readonly files: Readonly<Record<string, readonly string[]>>;
  /** Kernel modules to load at start, in order. */
  readonly modules: readonly string[];
  /** The Node binary to ship as /usr/bin/node. */
  readonly nodeBinary: string;
  readonly agentBundle: Uint8Array;
}

export interface Kernel {
  readonly version: string;
  /** The package holding vmlinuz and the modules. */
  readonly package: string;
  /** vmlinuz on disk. */
  readonly image: string;
}

export interface Plan {
  /** Sorted by path; every directory before what it holds. */
  readonly entries: readonly EnvEntry[];
  readonly kernel: Kernel;
  /** The packages files were taken from. */
  readonly packagesUsed: readonly string[];
  /** Modules /init loads (their dependencies load with them), and those built into the kernel. */
  readonly modules: {
    readonly loaded: readonly string[];
    readonly builtin: readonly string[];
    readonly files: number;
  };
}

export const AGENT_PATH = '/winsmith/agent.mjs';
export const NODE_PATH = '/usr/bin/node';
/** Where the loader looks for libraries after DT_RUNPATH (Debian's multiarch glibc, merged /usr). */
const LIBRARY_DIRS = ['/usr/lib/x86_64-linux-gnu', '/usr/lib'];

const ETC_FILES: Readonly<Record<string, string>> = {
  '/etc/passwd': 'root:x:0:0:root:/root:/bin/sh\n',
  '/etc/group': 'root:x:0:\n',
  '/etc/hosts': '127.0.0.1 localhost\n::1 localhost\n',
  '/etc/nsswitch.conf': 'passwd: files\ngroup: files\nhosts: files dns\n',
};

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

/** The entries being gathered: each path once, with every parent directory. */
class EntrySet {
  readonly #entries = new Map<string, EnvEntry>();

  add(entry: EnvEntry): void {
    const before = this.#entries.get(entry.path);
    if (before !== undefined) {
      if (before.kind === entry.kind && (before.kind === 'directory' || sameSource(before, entry))) return;
      throw new AppError('CONFLICT', `${entry.path} would be both a ${before.kind} and a ${entry.kind}`, {
        hint: 'two sources give the same path: take it from one of them (src/deploy/bootenv/content.ts)',
      });
    }
    const parent = posix.dirname(entry.path);
    if (parent !== '/' && parent !== entry.path) this.add({ kind: 'directory', path: parent });
    this.#entries.set(entry.path, entry);
  }

  has(path: string): boolean {
    return this.#entries.has(path);
  }

  sorted(): EnvEntry[] {
    return [...this.#entries.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }
}

function sameSource(a: EnvEntry, b: EnvEntry): boolean {
  if (a.kind === 'file' && b.kind === 'file') return a.source === b.source;
  if (a.kind === 'symlink' && b.kind === 'symlink') return a.target === b.target;
  return false;
}

/** The kernel: the one /boot/vmlinuz-VERSION of the tree. */
function findKernel(tree: PackageTree): Kernel {
  const images = [...tree.nodes].filter(([p, n]) => n.kind === 'file' && /^\/boot\/vmlinuz-[^/]+$/.test(p));
  const [only] = images;
  if (only === undefined || images.length !== 1) {
    throw new AppError(
      'NOT_FOUND',
      `the packages of the lock hold ${images.length} kernels (/boot/vmlinuz-*); expected 1`,
      {
        hint: 'write the lock again with `winsmith bootenv lock`',
      },
    );
  }
  const [path, node] = only;
  if (node.kind !== 'file') throw new AppError('INTERNAL', `${path} is not a file`);
  return { version: path.slice('/boot/vmlinuz-'.length), package: node.package, image: node.source };
}

/** What the first bytes of a file say it is: a 64-bit program or library (which needs libraries), or not. */
async function dynamicElf(source: string): Promise<boolean> {
  return withFileSource(source, async (file) => {
    if (file.size < 20) return false;
    const head = await file.read(0, 20);
    if (!isElf(head) || head[4] !== 2) return false;
    const type = (head[16] ?? 0) | ((head[17] ?? 0) << 8);
    return type === ET.ET_EXEC || type === ET.ET_DYN;
  });
}

/** Works out the initramfs. */
export async function planBootEnv(input: PlanInput): Promise<Plan> {
  const { tree } = input;
  const entries = new EntrySet();
  const used = new Set<string>();
  /** Programs and libraries whose needs are still to be followed: path in the environment → file. */
  const elves: { path: string; source: string }[] = [];

  /** Adds `path` of the tree: the links on the way as links, then the directory or file they reach. */
  const addFromTree = async (path: string): Promise<void> => {
    const { path: real, links } = resolveTreePath(tree, path);
    for (const link of links) {
      const node = treeNode(tree, link);
      if (node.kind === 'symlink') entries.add({ kind: 'symlink', path: link, target: node.target });
      used.add(node.package);
    }
    const node = treeNode(tree, real);
    if (node.kind === 'directory') entries.add({ kind: 'directory', path: real });
    else if (node.kind === 'file' && !entries.has(real)) {
      used.add(node.package);
      entries.add({ kind: 'file', path: real, executable: node.executable, source: node.source });
      if (await dynamicElf(node.source)) elves.push({ path: real, source: node.source });
    }
  };

  for (const [pkg, paths] of Object.entries(input.files)) {
    for (const path of paths) {
      const node = treeNode(tree, path.replace(/\/$/, ''));
      if (node.package !== pkg) {
        throw new AppError(
          'CONFLICT',
          `${path} is in package ${node.package}, not ${pkg} as content.ts says`,
          {
            hint: 'name the package that holds it in src/deploy/bootenv/content.ts',
          },
        );
      }
      const paths = path.endsWith('/') ? [path, ...treePathsUnder(tree, path)] : [path];
      for (const p of paths) await addFromTree(p);
    }
  }

  entries.add({ kind: 'file', path: NODE_PATH, executable: true, source: input.nodeBinary });
  elves.push({ path: NODE_PATH, source: input.nodeBinary });
  await addLibraries(tree, elves, addFromTree);

  const kernel = findKernel(tree);
  used.add(kernel.package);
  const modules = await addModules(tree, kernel, input.modules, entries);

  entries.add({ kind: 'data', path: AGENT_PATH, executable: false, data: input.agentBundle });
  entries.add({ kind: 'data', path: '/init', executable: true, data: text(INIT_SCRIPT) });
  entries.add({ kind: 'data', path: '/winsmith/udhcpc.script', executable: true, data: text(UDHCPC_SCRIPT) });
  entries.add({
    kind: 'data',
    path: '/winsmith/modules',
    executable: false,
    data: text(modules.loaded.map((m) => `${m}\n`).join('')),
  });
  for (const [path, content] of Object.entries(ETC_FILES)) {
    entries.add({ kind: 'data', path, executable: false, data: text(content) });
  }
  entries.add({ kind: 'symlink', path: '/etc/mtab', target: '/proc/self/mounts' });
  for (const dir of ['bin', 'sbin', 'lib', 'lib64'])
    entries.add({ kind: 'symlink', path: `/${dir}`, target: `usr/${dir}` });
  for (const dir of [
    '/dev',
    '/proc',
    '/sys',
    '/run',
    '/tmp',
    '/root',
    '/mnt',
    '/usr/bin',
    '/usr/sbin',
    '/usr/lib64',
  ]) {
    entries.add({ kind: 'directory', path: dir });
  }
  entries.add({ kind: 'char-device', path: '/dev/console', major: 5, minor: 1 });

  return { entries: entries.sorted(), kernel, packagesUsed: [...used].sort(), modules };
}

/** Follows the interpreter and DT_NEEDED of each ELF, adding what they reach, until nothing is new. */
async function addLibraries(
  tree: PackageTree,
  elves: { path: string; source: string }[],
  addFromTree: (path: string) => Promise<void>,
): Promise<void> {
  const done = new Set<string>();
  for (let next = elves.shift(); next !== undefined; next = elves.shift()) {
    if (done.has(next.path)) continue;
    done.add(next.path);
    const info = await withFileSource(next.source, readElfDynamic);
    if (info.header.machine !== EM_X86_64) {
      throw new AppError(
        'FORMAT_UNSUPPORTED',
        `${next.path} is for ELF machine ${info.header.machine}; expected x86-64 (62)`,
      );
    }
    if (info.interpreter !== null) await addFromTree(info.interpreter);
    const origin = posix.dirname(next.path);
    const dirs = [
      ...info.runpath.map((d) => d.replaceAll('$ORIGIN', origin).replaceAll('${ORIGIN}', origin)),
      ...LIBRARY_DIRS,
    ];
    for (const soname of info.needed) {
      const dir = dirs.find((d) => tree.nodes.has(posix.join(d, soname)));
      if (dir === undefined) {
        throw new AppError(
          'NOT_FOUND',
          `${next.path} needs ${soname}, which no package of the lock holds in ${dirs.join(', ')}`,
          {
            hint: 'add the package that has it to the roots (src/deploy/bootenv/content.ts), then `winsmith bootenv lock`',
          },
        );
      }
      await addFromTree(posix.join(dir, soname));
    }
  }
}

/** The wanted modules and their dependencies, modules.dep and the kernel's module lists. */
async function addModules(
  tree: PackageTree,
  kernel: Kernel,
  wanted: readonly string[],
  entries: EntrySet,
): Promise<Plan['modules']> {
  const base = `/usr/lib/modules/${kernel.version}`;
  const sourceOf = (path: string): string => {
    const node = treeNode(tree, path);
    if (node.kind !== 'file') throw new AppError('NOT_FOUND', `${path} is a ${node.kind}; expected a file`);
    return node.source;
  };
  const files = new Map<string, string>();
  for (const path of treePathsUnder(tree, `${base}/kernel`)) {
    if (/\.ko(\.(xz|zst|gz))?$/.test(path)) files.set(moduleNameOf(path), path.slice(base.length + 1));
  }
  const builtinList = new TextDecoder().decode(
    await withFileSource(sourceOf(`${base}/modules.builtin`), (s) => s.read(0, s.size)),
  );
  const builtin = new Set(
    builtinList
      .split('\n')
      .filter((l) => l !== '')
      .map(moduleNameOf),
  );

  const chosen = new Map<string, KernelModule>();
  const visit = async (name: string, user: string): Promise<void> => {
    if (chosen.has(name) || builtin.has(name)) return;
    const path = files.get(name);
    if (path === undefined) {
      throw new AppError(
        'NOT_FOUND',
        `kernel module ${name} (${user}) is neither a module of linux ${kernel.version} nor built into it`,
        {
          hint: 'check the module names of src/deploy/bootenv/content.ts (modinfo -n NAME on a machine with this kernel)',
        },
      );
    }
    const modinfo = await withFileSource(sourceOf(`${base}/${path}`), (s) => readElfSection(s, '.modinfo'));
    const depends = parseDepends(parseModinfo(modinfo ?? new Uint8Array()).get('depends')?.[0] ?? '');
    chosen.set(name, { name, path, depends });
    for (const d of depends) await visit(d, `needed by ${name}`);
  };
  for (const name of wanted) await visit(name, 'content.ts');

  const list = [...chosen.values()];
  for (const m of list)
    entries.add({
      kind: 'file',
      path: `${base}/${m.path}`,
      executable: false,
      source: sourceOf(`${base}/${m.path}`),
    });
  entries.add({
    kind: 'data',
    path: `${base}/modules.dep`,
    executable: false,
    data: text(renderModulesDep(list)),
  });
  for (const name of ['modules.builtin', 'modules.order']) {
    entries.add({
      kind: 'file',
      path: `${base}/${name}`,
      executable: false,
      source: sourceOf(`${base}/${name}`),
    });
  }
  return {
    loaded: wanted.filter((n) => !builtin.has(n)),
    builtin: wanted.filter((n) => builtin.has(n)),
    files: list.length,
  };
}
