// What a WIM holds, read in TypeScript from its header and XML data through a ByteSource: no
// program is run and no file data is decompressed. The XML resource is stored uncompressed by
// wimlib and by Microsoft's WIMGAPI, so only the header and that range are read.

import type { ByteSource } from '../core/byte-source.ts';
import { FormatError } from '../core/errors.ts';
import {
  WIM_HEADER_SIZE,
  WIM_RESHDR_FLAG,
  WIM_VERSION_SOLID,
  compressionOf,
  formatWimGuid,
  parseWimHeader,
  type WimHeader,
} from '../formats/wim/wim-header.ts';
import {
  decodeWimXmlText,
  MAX_WIM_XML_BYTES,
  parseWimXml,
  type WimXmlImage,
} from '../formats/wim/wim-xml.ts';

/** One image (edition) of a WIM, from its <IMAGE> element; a field is null when its element is absent. */
export type WimEdition = WimXmlImage;

export interface WimInfo {
  /** The 16 GUID bytes in file order as 32 hex digits, as `wiminfo` prints them. */
  guid: string;
  compression: 'none' | 'XPRESS' | 'LZX' | 'LZMS';
  chunkSize: number;
  /** The WIM holds solid resources (version 0xe00: ESD files, `--solid`). */
  solid: boolean;
  /** Parts of a split WIM (1 when not split). */
  parts: number;
  /** 1-based index of the bootable image, 0 when none is. */
  bootIndex: number;
  images: WimEdition[];
}

/**
 * The header that describes the file. A pipable WIM (wimlib's own variant) is written front to
 * back, so its first header has no tables; the final copy at the end of the file has them
 * (wimlib: src/write.c, write_pipable_wim).
 */
async function readHeader(source: ByteSource): Promise<WimHeader> {
  const first = parseWimHeader(await source.read(0, Math.min(source.size, WIM_HEADER_SIZE)));
  if (!first.pipable || first.xmlData.sizeInWim !== 0 || source.size < 2 * WIM_HEADER_SIZE) return first;
  const final = parseWimHeader(await source.read(source.size - WIM_HEADER_SIZE, WIM_HEADER_SIZE));
  if (formatWimGuid(final.guid) !== formatWimGuid(first.guid)) {
    throw new FormatError('the header at the end of this pipable WIM belongs to another WIM (GUIDs differ)', {
      offset: source.size - WIM_HEADER_SIZE + 0x18,
    });
  }
  return final;
}

export async function readWimInfo(source: ByteSource): Promise<WimInfo> {
  return (await readWimInfoAndXml(source)).info;
}

/** The WIM's description and its XML data as text, for readers of elements WimInfo leaves out. */
export async function readWimInfoAndXml(source: ByteSource): Promise<{ info: WimInfo; xml: string }> {
  const header = await readHeader(source);
  const xml = header.xmlData;
  if (xml.flags & WIM_RESHDR_FLAG.COMPRESSED) {
    throw new FormatError(
      'the XML data resource is marked compressed; wimlib and Microsoft always store it uncompressed, and this reader supports only that',
      { offset: 0x48, code: 'FORMAT_UNSUPPORTED' },
    );
  }
  if (xml.sizeInWim === 0) {
    throw new FormatError('the header points at no XML data (an unfinished or piped-out WIM)', {
      offset: 0x48,
    });
  }
  if (xml.sizeInWim > MAX_WIM_XML_BYTES) {
    throw new FormatError(`XML data of ${xml.sizeInWim} bytes is over the limit of ${MAX_WIM_XML_BYTES}`, {
      offset: 0x48,
      code: 'LIMIT_EXCEEDED',
    });
  }
  if (xml.offsetInWim + xml.sizeInWim > source.size) {
    throw new FormatError(
      `the XML data (${xml.sizeInWim} bytes at ${xml.offsetInWim}) ends past the end of the file (${source.size} bytes): the WIM is truncated`,
      { offset: xml.offsetInWim },
    );
  }
  const xmlBytes = await source.read(xml.offsetInWim, xml.sizeInWim);
  const { images } = parseWimXml(xmlBytes);
  if (images.length !== header.imageCount) {
    throw new FormatError(
      `the header counts ${header.imageCount} images but the XML data describes ${images.length}`,
      { offset: 0x2c },
    );
  }
  const info: WimInfo = {
    guid: formatWimGuid(header.guid),
    compression: compressionOf(header),
    chunkSize: header.chunkSize,
    solid: header.version === WIM_VERSION_SOLID,
    parts: header.totalParts,
    // wimlib treats a boot index past the image count as none (src/wim.c).
    bootIndex: header.bootIndex > header.imageCount ? 0 : header.bootIndex,
    images,
  };
  return { info, xml: decodeWimXmlText(xmlBytes) };
}
