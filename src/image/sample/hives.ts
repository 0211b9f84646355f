// Writes the sample image's hives from their description in hive-data.ts with our regf codec, and
// its BCD-Template with our BCD codec. A fixed clock stamps every key and hive header, so the same
// sample always has the same bytes.

import { createBcdTemplate } from '../../formats/bcd/template.ts';
import { Hive, REG_TYPES, encodeRegData } from '../../formats/regf/index.ts';
import { SAMPLE_HIVES, type SampleHive } from './hive-data.ts';
import type { SampleHiveName } from './layout.ts';

/** 2021-05-08 00:00:00 UTC as a FILETIME: the day after build 20348's lab date (210507). */
export const SAMPLE_FILETIME = 132_649_056_000_000_000n;

const sampleClock = (): bigint => SAMPLE_FILETIME;

export function buildHive(spec: SampleHive): Uint8Array {
  const hive = Hive.create(spec.rootName, { clock: sampleClock });
  for (const [path, values] of Object.entries(spec.keys)) {
    const key = hive.ensureKey(path);
    for (const [name, value] of Object.entries(values)) {
      const type = typeof value.type === 'number' ? value.type : REG_TYPES[value.type];
      key.setValue(name, type, encodeRegData(type, value.data));
    }
  }
  return hive.serialize();
}

export function buildSampleHive(name: SampleHiveName): Uint8Array {
  return buildHive(SAMPLE_HIVES[name]);
}

export function buildSampleBcdTemplate(): Uint8Array {
  return createBcdTemplate({ clock: sampleClock }).serialize();
}
