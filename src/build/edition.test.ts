import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { WimXmlImage } from '../formats/wim/wim-xml.ts';
import { chooseEdition } from './edition.ts';

function image(
  index: number,
  editionId: string | null,
  name: string,
  build: string | null = '10.0.26100.1',
): WimXmlImage {
  return {
    index,
    name,
    description: null,
    editionId,
    installationType: null,
    build,
    arch: 'amd64',
    languages: ['en-US'],
    totalBytes: null,
    fileCount: null,
    dirCount: null,
  };
}

const MEDIA = [
  image(1, 'ServerStandardCor', 'Windows Server 2025 Standard'),
  image(2, 'ServerStandard', 'Windows Server 2025 Standard (Desktop Experience)'),
  image(3, 'ServerDatacenterCor', 'Windows Server 2025 Datacenter'),
  image(4, 'ServerDatacenter', 'Windows Server 2025 Datacenter (Desktop Experience)'),
];

test('an edition by index, EditionID or image name, case ignored', () => {
  assert.deepEqual(chooseEdition(MEDIA, 4, 'b.yaml'), {
    index: 4,
    editionId: 'ServerDatacenter',
    build: 26100,
    name: 'Windows Server 2025 Datacenter (Desktop Experience)',
  });
  assert.equal(chooseEdition(MEDIA, 'serverstandardcor', 'b.yaml').index, 1);
  assert.equal(chooseEdition(MEDIA, 'Windows Server 2025 Standard (Desktop Experience)', 'b.yaml').index, 2);
});

test('an edition not on the media, or matching several, is refused listing what the media holds', () => {
  assert.throws(
    () => chooseEdition(MEDIA, 9, 'b.yaml'),
    /b\.yaml: edition 9 is not on the media; it holds: 1 ServerStandardCor/,
  );
  assert.throws(() => chooseEdition(MEDIA, 'ServerWeb', 'b.yaml'), /"ServerWeb" is not on the media/);
  const twice = [...MEDIA, image(5, 'ServerDatacenter', 'Another')];
  assert.throws(() => chooseEdition(twice, 'ServerDatacenter', 'b.yaml'), /matches several images/);
  assert.throws(
    () => chooseEdition([image(1, null, 'x')], 1, 'b.yaml'),
    /image 1 of the media has no EditionID or build number/,
  );
});
