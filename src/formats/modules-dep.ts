// Kernel module dependencies, as depmod(8) of kmod reads and writes them. A module (.ko, ET_REL ELF)
// names what it needs in its .modinfo section: NUL-terminated "key=value" strings, among them
// "depends=a,b" (module names; scripts/mod/modpost.c writes it, empty when none). depmod writes
// modules.dep, one line a module:
//   kernel/drivers/net/virtio_net.ko: kernel/drivers/net/net_failover.ko kernel/net/core/failover.ko
// — its path under /lib/modules/VERSION, a colon, then every module it needs directly or not, each
// before the ones it needs itself (kmod's depmod.c sorts them so: a topological order, users first).
// modprobe loads that list from its end, then the module. A module's name is its file name without
// .ko and with '-' read as '_' (usb-storage.ko is usb_storage).

import { FormatError } from '../core/errors.ts';

export interface KernelModule {
  /** The module's name, '-' written as '_'. */
  readonly name: string;
  /** Its path under /lib/modules/VERSION, e.g. 'kernel/drivers/net/virtio_net.ko'. */
  readonly path: string;
  /** The names of the modules it needs (its .modinfo "depends"). */
  readonly depends: readonly string[];
}

/** The name of the module in `path`: 'kernel/drivers/usb/storage/usb-storage.ko' → 'usb_storage'. */
export function moduleNameOf(path: string): string {
  const file = path.slice(path.lastIndexOf('/') + 1);
  return file.replace(/\.ko(\.(xz|zst|gz))?$/, '').replaceAll('-', '_');
}

/** The values of each key of a .modinfo section, in order ("alias" and "parm" come many times). */
export function parseModinfo(bytes: Uint8Array): ReadonlyMap<string, readonly string[]> {
  const fields = new Map<string, string[]>();
  let start = 0;
  while (start < bytes.byteLength) {
    let end = bytes.indexOf(0, start);
    if (end < 0) end = bytes.byteLength;
    if (end > start) {
      const text = new TextDecoder('utf-8').decode(bytes.subarray(start, end));
      const eq = text.indexOf('=');
      if (eq <= 0)
        throw new FormatError(`.modinfo entry ${JSON.stringify(text)} is not key=value`, { offset: start });
      const key = text.slice(0, eq);
      const values = fields.get(key) ?? [];
      values.push(text.slice(eq + 1));
      fields.set(key, values);
    }
    start = end + 1;
  }
  return fields;
}

/** The module names of a .modinfo "depends" value ('' when the module needs none). */
export function parseDepends(value: string): string[] {
  return value === '' ? [] : value.split(',').map((n) => n.replaceAll('-', '_'));
}

const byPath = (a: KernelModule, b: KernelModule): number => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

function byName(modules: readonly KernelModule[]): Map<string, KernelModule> {
  const map = new Map<string, KernelModule>();
  for (const m of modules) {
    if (map.has(m.name)) throw new FormatError(`two modules are named ${m.name}`);
    map.set(m.name, m);
  }
  return map;
}

function lookup(map: ReadonlyMap<string, KernelModule>, name: string, user: string): KernelModule {
  const m = map.get(name);
  if (m === undefined)
    throw new FormatError(`module ${user} depends on ${name}, which is not among the modules`);
  return m;
}

/**
 * Every module's place in one order where a module comes before the modules it needs (Kahn's
 * algorithm from the modules nothing needs, ties by name, so the order is the same every time).
 */
function dependencyOrder(map: ReadonlyMap<string, KernelModule>): Map<string, number> {
  const users = new Map<string, number>([...map.keys()].map((n) => [n, 0]));
  for (const m of map.values()) {
    for (const d of new Set(m.depends)) {
      lookup(map, d, m.name);
      users.set(d, (users.get(d) ?? 0) + 1);
    }
  }
  const ready = [...users].filter(([, n]) => n === 0).map(([name]) => name);
  const order = new Map<string, number>();
  for (;;) {
    ready.sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
    const name = ready.pop();
    if (name === undefined) break;
    order.set(name, order.size);
    for (const d of new Set(lookup(map, name, name).depends)) {
      const left = (users.get(d) ?? 0) - 1;
      users.set(d, left);
      if (left === 0) ready.push(d);
    }
  }
  if (order.size !== map.size) {
    const cycle = [...map.keys()].filter((n) => !order.has(n)).sort();
    throw new FormatError(`modules depend on each other in a cycle: ${cycle.join(', ')}`);
  }
  return order;
}

/** modules.dep for `modules`, which must hold every module they need; lines sorted by path. */
export function renderModulesDep(modules: readonly KernelModule[]): string {
  const map = byName(modules);
  const order = dependencyOrder(map);
  const rank = (m: KernelModule): number => order.get(m.name) ?? 0;
  const lines = [...map.values()].sort(byPath).map((m) => {
    const all = new Map<string, KernelModule>();
    const visit = (name: string): void => {
      for (const d of lookup(map, name, name).depends) {
        if (all.has(d)) continue;
        all.set(d, lookup(map, d, name));
        visit(d);
      }
    };
    visit(m.name);
    const deps = [...all.values()].sort((a, b) => rank(a) - rank(b)).map((d) => ` ${d.path}`);
    return `${m.path}:${deps.join('')}\n`;
  });
  return lines.join('');
}
