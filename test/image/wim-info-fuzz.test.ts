// readWimInfo over real WIMs (made by wimlib-imagex) with bytes changed or cut off: it must give
// a value or a FormatError, never another exception or a hang.

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { bytesSource } from '../../src/core/byte-source.ts';
import { FormatError } from '../../src/core/errors.ts';
import { parseWimHeader } from '../../src/formats/wim/wim-header.ts';
import { readWimInfo } from '../../src/image/wim-info.ts';
import { makeSampleWims } from './wim-fixtures.ts';

let dir = '';
const samples: Uint8Array[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'winsmith-wim-fuzz-'));
  const wims = await makeSampleWims(dir);
  for (const path of [wims.multi, wims.windows, wims.solid, wims.pipable])
    samples.push(new Uint8Array(await readFile(path)));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function valueOrFormatError(bytes: Uint8Array): Promise<void> {
  try {
    await readWimInfo(bytesSource(bytes));
  } catch (e) {
    if (!(e instanceof FormatError)) throw e;
  }
}

test('the unchanged samples read', async () => {
  for (const bytes of samples) assert.ok((await readWimInfo(bytesSource(bytes))).images.length > 0);
});

test('bytes changed in the header or the XML give a value or a FormatError', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.nat({ max: 3 }),
      fc.array(fc.tuple(fc.boolean(), fc.nat(), fc.integer({ min: 0, max: 255 })), {
        minLength: 1,
        maxLength: 6,
      }),
      async (which, changes) => {
        const bytes = (samples[which] ?? new Uint8Array()).slice();
        const header = parseWimHeader(bytes.subarray(which === 3 ? bytes.length - 208 : 0));
        const xmlStart = header.xmlData.offsetInWim;
        for (const [inHeader, at, value] of changes) {
          const offset = inHeader ? at % 208 : xmlStart + (at % header.xmlData.sizeInWim);
          bytes[offset] = value;
        }
        await valueOrFormatError(bytes);
      },
    ),
    { numRuns: 300 },
  );
});

test('a WIM cut anywhere gives a value or a FormatError', async () => {
  await fc.assert(
    fc.asyncProperty(fc.nat({ max: 3 }), fc.nat(), async (which, cut) => {
      const bytes = samples[which] ?? new Uint8Array();
      await valueOrFormatError(bytes.subarray(0, cut % (bytes.length + 1)));
    }),
    { numRuns: 200 },
  );
});
