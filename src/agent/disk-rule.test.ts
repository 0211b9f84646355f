import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { AppError } from '../core/errors.ts';
import type { DiskInfo, DiskRule } from '../deploy/agent-protocol.ts';
import { GiB } from '../image/disk/size.ts';
import { parseSizeComparison } from '../deploy/size-comparison.ts';
import { chooseDisk, mismatches, sizeMatches } from './disk-rule.ts';

function disk(path: string, fields: Partial<DiskInfo> = {}): DiskInfo {
  return {
    path,
    size: 100 * GiB,
    model: 'Samsung SSD 870',
    vendor: 'ATA     ',
    serial: `S-${path.slice(-3)}`,
    wwn: null,
    byPath: `/dev/disk/by-path/pci-0000:00:1f.2-ata-${path.slice(-1)}`,
    rotational: false,
    removable: false,
    transport: 'sata',
    ...fields,
  };
}

const NEED = 30 * GiB;

function failsWith(code: string, message: RegExp): (e: unknown) => boolean {
  return (e) => e instanceof AppError && e.code === code && message.test(e.message);
}

test('size comparisons: each operator, "=" and a bare size within 1%, sizes in powers of 1024', () => {
  assert.deepEqual(parseSizeComparison('>= 100G'), { operator: '>=', bytes: 100 * GiB });
  assert.deepEqual(parseSizeComparison('<2T'), { operator: '<', bytes: 2048 * GiB });
  assert.deepEqual(parseSizeComparison('== 120G'), { operator: '=', bytes: 120 * GiB });
  assert.deepEqual(parseSizeComparison(' 120GiB '), { operator: '=', bytes: 120 * GiB });
  const equal = parseSizeComparison('100G');
  assert.ok(sizeMatches(equal, 100 * GiB));
  assert.ok(sizeMatches(equal, Math.floor(100.99 * GiB)));
  assert.ok(sizeMatches(equal, Math.ceil(99.01 * GiB)));
  assert.ok(!sizeMatches(equal, Math.ceil(101.01 * GiB)));
  assert.ok(!sizeMatches(equal, Math.floor(98.99 * GiB)));
  assert.ok(sizeMatches(parseSizeComparison('>= 100G'), 100 * GiB));
  assert.ok(!sizeMatches(parseSizeComparison('> 100G'), 100 * GiB));
  assert.ok(sizeMatches(parseSizeComparison('<= 100G'), 100 * GiB));
  assert.ok(!sizeMatches(parseSizeComparison('< 100G'), 100 * GiB));
  for (const bad of ['', '>=', '=> 100G', '>= -1G', 'big', '>= 100X']) {
    assert.throws(
      () => parseSizeComparison(bad),
      failsWith('INVALID_ARGUMENT', /^the disk rule size ".*" is not a comparison with a size$/),
      bad,
    );
  }
});

test('each field of a rule: what matches and what does not', () => {
  const d = disk('/dev/sda', { wwn: 'naa.5000c500a1b2c3d4', model: 'Samsung SSD 870  ' });
  assert.deepEqual(mismatches({}, d), []);
  assert.deepEqual(mismatches({ model: 'samsung ssd 870', vendor: 'ata', serial: 's-sda' }, d), []);
  assert.deepEqual(mismatches({ wwn: '0x5000C500A1B2C3D4' }, d), []);
  assert.deepEqual(mismatches({ wwn: 'naa.5000c500a1b2c3d4' }, d), []);
  assert.deepEqual(mismatches({ byPath: 'pci-0000:00:1f.2-ata-a' }, d), []);
  assert.deepEqual(mismatches({ byPath: '/dev/disk/by-path/pci-0000:00:1f.2-ata-a' }, d), []);
  assert.deepEqual(
    mismatches(
      {
        size: '< 50G',
        model: 'Other',
        vendor: 'WDC',
        serial: 'X',
        wwn: '0x1',
        byPath: 'pci-1',
        rotational: true,
        transport: 'nvme',
      },
      d,
    ),
    ['size', 'model', 'vendor', 'serial', 'wwn', 'byPath', 'rotational', 'transport'],
  );
  const bare = disk('/dev/sdb', { model: null, serial: null, wwn: null, byPath: null, rotational: null });
  assert.deepEqual(mismatches({ model: 'x', serial: 'x', wwn: 'x', byPath: 'x', rotational: false }, bare), [
    'model',
    'serial',
    'wwn',
    'byPath',
    'rotational',
  ]);
});

test('no rule: the smallest non-removable disk that holds the image', () => {
  const disks = [
    disk('/dev/sda', { size: 500 * GiB }),
    disk('/dev/sdb', { size: 120 * GiB }),
    disk('/dev/sdc', { size: 20 * GiB }),
    disk('/dev/sdd', { size: 64 * GiB, removable: true }),
  ];
  assert.equal(chooseDisk(disks, {}, NEED).path, '/dev/sdb');
});

test('no rule and two smallest of one size: failed, naming both', () => {
  const disks = [disk('/dev/sda', { size: 120 * GiB }), disk('/dev/sdb', { size: 120 * GiB })];
  assert.throws(
    () => chooseDisk(disks, {}, NEED),
    failsWith(
      'CONFLICT',
      /^2 disks tie as the smallest non-removable disk of at least 30 GiB, expected one: \/dev\/sda \(120 GiB.*\), \/dev\/sdb \(120 GiB/,
    ),
  );
});

test('no rule and no disk big enough (removable ones left out): failed, listing the disks', () => {
  const disks = [disk('/dev/sda', { size: 20 * GiB }), disk('/dev/sdb', { size: 64 * GiB, removable: true })];
  assert.throws(
    () => chooseDisk(disks, {}, NEED),
    failsWith(
      'NOT_FOUND',
      /^no non-removable disk holds the 30 GiB the image needs; the disks: \/dev\/sda \(20 GiB.*\/dev\/sdb \(64 GiB.*removable\)$/,
    ),
  );
  assert.throws(() => chooseDisk([], {}, NEED), failsWith('NOT_FOUND', /the disks: none$/));
});

test('a rule: the one disk matching every field, removable or not', () => {
  const disks = [
    disk('/dev/sda', { serial: 'AAA' }),
    disk('/dev/sdb', { serial: 'BBB', transport: 'usb', removable: true }),
  ];
  assert.equal(chooseDisk(disks, { serial: 'BBB' }, NEED).path, '/dev/sdb');
  assert.equal(chooseDisk(disks, { transport: 'usb', size: '>= 50G' }, NEED).path, '/dev/sdb');
});

test('a rule matching two disks, or none: failed, naming them; never a guess', () => {
  const disks = [disk('/dev/sda'), disk('/dev/sdb'), disk('/dev/nvme0n1', { transport: 'nvme' })];
  assert.throws(
    () => chooseDisk(disks, { transport: 'sata' }, NEED),
    failsWith(
      'CONFLICT',
      /^2 disks match the disk rule \{transport: "sata"\}, expected exactly one: \/dev\/sda \(100 GiB, sata, model "Samsung SSD 870", serial "S-sda"\), \/dev\/sdb \(/,
    ),
  );
  assert.throws(
    () => chooseDisk(disks, { serial: 'nope' }, NEED),
    failsWith(
      'NOT_FOUND',
      /^no disk matches the disk rule \{serial: "nope"\}; the disks: \/dev\/sda .*\/dev\/sdb .*\/dev\/nvme0n1 /,
    ),
  );
});

test('the one disk a rule matches but too small for the image: failed, not written', () => {
  assert.throws(
    () => chooseDisk([disk('/dev/sda', { size: 16 * GiB })], { serial: 'S-sda' }, NEED),
    failsWith(
      'INVALID_ARGUMENT',
      /^\/dev\/sda \(16 GiB.*\), the one disk matching the disk rule \{serial: "S-sda"\}, is smaller than the 30 GiB the image needs$/,
    ),
  );
});

test('a message names at most 16 disks', () => {
  const disks = Array.from({ length: 40 }, (_, i) => disk(`/dev/sd${String(i).padStart(3, '0')}`));
  assert.throws(
    () => chooseDisk(disks, { model: 'Samsung SSD 870' }, NEED),
    (e: unknown) => {
      const message = e instanceof Error ? e.message : '';
      return message.includes('and 24 more') && message.length < 2000;
    },
  );
});

test('whatever the disks and the rule: one disk matching every field and big enough, or an error', () => {
  const diskArb = fc.record({
    path: fc.constantFrom('/dev/sda', '/dev/sdb', '/dev/sdc', '/dev/vda', '/dev/nvme0n1'),
    size: fc.integer({ min: 1, max: 4096 }).map((g) => g * GiB),
    model: fc.option(fc.constantFrom('A', 'B'), { nil: null }),
    vendor: fc.option(fc.constantFrom('ATA', 'QEMU'), { nil: null }),
    serial: fc.option(fc.constantFrom('1', '2', '3'), { nil: null }),
    wwn: fc.option(fc.constantFrom('0x1', 'naa.2'), { nil: null }),
    byPath: fc.option(fc.constantFrom('/dev/disk/by-path/p1', '/dev/disk/by-path/p2'), { nil: null }),
    rotational: fc.option(fc.boolean(), { nil: null }),
    removable: fc.boolean(),
    transport: fc.option(fc.constantFrom('sata', 'nvme', 'usb'), { nil: null }),
  });
  const ruleArb: fc.Arbitrary<DiskRule> = fc.record(
    {
      size: fc.constantFrom('>= 100G', '< 1T', '500G', '> 2T'),
      model: fc.constantFrom('A', 'b'),
      serial: fc.constantFrom('1', '2'),
      wwn: fc.constantFrom('1', '2'),
      byPath: fc.constantFrom('p1', 'p2'),
      rotational: fc.boolean(),
      transport: fc.constantFrom('sata' as const, 'nvme' as const),
    },
    { requiredKeys: [] },
  );
  fc.assert(
    fc.property(
      fc.array(diskArb, { maxLength: 6 }),
      ruleArb,
      fc.integer({ min: 1, max: 1000 }),
      (disks, rule, needGiB) => {
        try {
          const chosen = chooseDisk(disks, rule, needGiB * GiB);
          assert.ok(chosen.size >= needGiB * GiB);
          const matching =
            Object.keys(rule).length === 0 ? null : disks.filter((d) => mismatches(rule, d).length === 0);
          if (matching !== null) assert.deepEqual(matching, [chosen]);
          else assert.ok(!chosen.removable);
        } catch (e) {
          assert.ok(e instanceof AppError, String(e));
        }
      },
    ),
  );
});
