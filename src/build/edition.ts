// The edition a build installs, chosen among install.wim's images as the recipe names it: its index,
// its EditionID (ServerDatacenter, ServerStandardCor...) or its image name ("Windows Server 2025
// Datacenter (Desktop Experience)"), case ignored. A name that matches none, or several, is an
// error listing what the media holds.

import { AppError } from '../core/errors.ts';
import type { WimXmlImage } from '../formats/wim/wim-xml.ts';
import type { InstallEdition } from './autounattend.ts';

export interface ChosenEdition extends InstallEdition {
  readonly name: string | null;
}

function describe(images: readonly WimXmlImage[]): string {
  return images.map((i) => `${i.index} ${i.editionId ?? '?'} "${i.name ?? ''}"`).join('; ');
}

/** The build number of a WIM's MAJOR.MINOR.BUILD.SPBUILD version, e.g. 20348. */
function buildNumber(version: string | null): number | null {
  const build = Number(version?.split('.')[2]);
  return Number.isInteger(build) && build > 0 ? build : null;
}

export function chooseEdition(
  images: readonly WimXmlImage[],
  wanted: string | number,
  where: string,
): ChosenEdition {
  const matches =
    typeof wanted === 'number'
      ? images.filter((i) => i.index === wanted)
      : images.filter((i) =>
          [i.editionId, i.name].some((v) => v !== null && v.toLowerCase() === wanted.toLowerCase()),
        );
  const [image] = matches;
  if (image === undefined || matches.length > 1) {
    throw new AppError(
      'NOT_FOUND',
      `${where}: edition ${JSON.stringify(wanted)} ${matches.length > 1 ? 'matches several images' : 'is not on the media'}; it holds: ${describe(images)}`,
      { hint: 'name the edition by its index, or by its full image name' },
    );
  }
  const build = buildNumber(image.build);
  if (image.editionId === null || build === null) {
    throw new AppError(
      'FORMAT_INVALID',
      `${where}: image ${image.index} of the media has no EditionID or build number in its XML`,
      { hint: 'use Windows Server installation media as Microsoft ships it' },
    );
  }
  return { index: image.index, editionId: image.editionId, build, name: image.name };
}
