import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  moduleNameOf,
  parseDepends,
  parseModinfo,
  renderModulesDep,
  type KernelModule,
} from './modules-dep.ts';

const mod = (path: string, depends: string[] = []): KernelModule => ({
  name: moduleNameOf(path),
  path,
  depends,
});

const MODULES = [
  mod('kernel/drivers/net/virtio_net.ko', ['virtio_ring', 'virtio', 'net_failover']),
  mod('kernel/drivers/net/net_failover.ko', ['failover']),
  mod('kernel/net/core/failover.ko'),
  mod('kernel/drivers/virtio/virtio.ko'),
  mod('kernel/drivers/virtio/virtio_ring.ko', ['virtio']),
  mod('kernel/drivers/usb/storage/usb-storage.ko', ['usbcore', 'scsi_mod']),
  mod('kernel/drivers/usb/core/usbcore.ko', ['usb_common']),
  mod('kernel/drivers/usb/common/usb-common.ko'),
  mod('kernel/drivers/scsi/scsi_mod.ko'),
  mod('kernel/fs/fuse/fuse.ko'),
];

test('a module name is its file name without .ko, with - read as _', () => {
  assert.equal(moduleNameOf('kernel/drivers/usb/storage/usb-storage.ko'), 'usb_storage');
  assert.equal(moduleNameOf('kernel/fs/fuse/fuse.ko.xz'), 'fuse');
  assert.deepEqual(parseDepends(''), []);
  assert.deepEqual(parseDepends('usb-common,scsi_mod'), ['usb_common', 'scsi_mod']);
});

test('.modinfo is read as key=value strings, keys that come again keep every value', () => {
  const bytes = new TextEncoder().encode('alias=a\0alias=b\0depends=virtio,virtio_ring\0\0name=virtio_net\0');
  const info = parseModinfo(bytes);
  assert.deepEqual(info.get('alias'), ['a', 'b']);
  assert.deepEqual(info.get('depends'), ['virtio,virtio_ring']);
  assert.deepEqual(info.get('name'), ['virtio_net']);
  assert.throws(
    () => parseModinfo(new TextEncoder().encode('license=GPL\0garbage\0')),
    /\.modinfo entry "garbage" is not key=value \(at offset 0xc\)/,
  );
});

test('modules.dep lists every module by path with all it needs, each before what it needs itself', () => {
  assert.equal(
    renderModulesDep(MODULES),
    [
      'kernel/drivers/net/net_failover.ko: kernel/net/core/failover.ko',
      'kernel/drivers/net/virtio_net.ko: kernel/drivers/net/net_failover.ko kernel/net/core/failover.ko kernel/drivers/virtio/virtio_ring.ko kernel/drivers/virtio/virtio.ko',
      'kernel/drivers/scsi/scsi_mod.ko:',
      'kernel/drivers/usb/common/usb-common.ko:',
      'kernel/drivers/usb/core/usbcore.ko: kernel/drivers/usb/common/usb-common.ko',
      'kernel/drivers/usb/storage/usb-storage.ko: kernel/drivers/scsi/scsi_mod.ko kernel/drivers/usb/core/usbcore.ko kernel/drivers/usb/common/usb-common.ko',
      'kernel/drivers/virtio/virtio.ko:',
      'kernel/drivers/virtio/virtio_ring.ko: kernel/drivers/virtio/virtio.ko',
      'kernel/fs/fuse/fuse.ko:',
      'kernel/net/core/failover.ko:',
      '',
    ].join('\n'),
  );
});

test('a dependency that is not there, or a cycle, is an error naming the modules', () => {
  assert.throws(
    () => renderModulesDep(MODULES.filter((m) => m.name !== 'usb_common')),
    /module usbcore depends on usb_common, which is not among the modules/,
  );
  assert.throws(() => renderModulesDep([...MODULES, mod('x/fuse.ko')]), /two modules are named fuse/);
  assert.throws(
    () => renderModulesDep([mod('a.ko', ['b']), mod('b.ko', ['c']), mod('c.ko', ['a']), mod('d.ko', ['a'])]),
    /modules depend on each other in a cycle: a, b, c/,
  );
});

test('in every line of modules.dep, a module comes before each module it needs (any acyclic graph)', () => {
  const graph = fc.integer({ min: 1, max: 12 }).chain((n) =>
    fc.array(fc.subarray([...Array(n).keys()]), { minLength: n, maxLength: n }).map((deps) =>
      // Only edges to higher numbers: acyclic by construction.
      deps.map((d, i) =>
        mod(
          `m${String(i).padStart(2, '0')}.ko`,
          d.filter((j) => j > i).map((j) => `m${String(j).padStart(2, '0')}`),
        ),
      ),
    ),
  );
  fc.assert(
    fc.property(graph, (modules) => {
      const byName = new Map(modules.map((m) => [m.name, m]));
      const needs = (a: string, b: string, seen = new Set<string>()): boolean =>
        (byName.get(a)?.depends ?? []).some((d) => {
          if (d === b) return true;
          if (seen.has(d)) return false;
          seen.add(d);
          return needs(d, b, seen);
        });
      for (const line of renderModulesDep(modules).trimEnd().split('\n')) {
        const [path, rest = ''] = line.split(':');
        const deps = rest.trim() === '' ? [] : rest.trim().split(' ').map(moduleNameOf);
        const self = moduleNameOf(path ?? '');
        assert.deepEqual(
          new Set(deps),
          new Set(modules.filter((m) => needs(self, m.name)).map((m) => m.name)),
        );
        deps.forEach((a, i) =>
          deps.slice(i + 1).forEach((b) => assert.ok(!needs(b, a), `${b} needs ${a} but comes after it`)),
        );
      }
    }),
  );
});
