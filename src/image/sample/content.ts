// Generated file content for the sample image's bulk (the --size padding), shaped like what fills a
// real Windows image: component manifests (XML text, very compressible), binaries (x86-64 code:
// skewed bytes with repeats, moderately compressible; resources; signed catalogs, not compressible).
// Content is a pure function of a seed, produced block by block into a caller's buffer, so a file of
// any size streams to disk without being held in memory, and the same seed gives the same bytes.

import { createPrng, deriveSeed, type Prng } from './prng.ts';

/** Content is made in blocks of this size; a block's bytes depend only on (content seed, index). */
export const CONTENT_BLOCK = 64 * 1024;

export type BlockKind = 'text' | 'code' | 'random';

/** The mix of block kinds of a file, as weights out of 100. */
export interface ContentMix {
  readonly text: number;
  readonly code: number;
  readonly random: number;
}

export const MIXES = {
  manifest: { text: 100, code: 0, random: 0 },
  binary: { text: 15, code: 60, random: 25 },
  catalog: { text: 10, code: 0, random: 90 },
} as const satisfies Record<string, ContentMix>;

export type ContentMixName = keyof typeof MIXES;

/** What one generated file holds. */
export interface ContentSpec {
  readonly size: number;
  readonly mix: ContentMixName;
  /** Seed of the block stream. Two files with the same content seed share their blocks. */
  readonly contentSeed: number;
  /**
   * A later version of another file: a short version stamp of `prefix` bytes shifts everything
   * (content-defined chunking still finds the shared blocks, fixed-size chunking does not), and
   * about one block in `mutateOneIn` is different.
   */
  readonly variant?: { readonly seed: number; readonly prefix: number; readonly mutateOneIn: number };
}

const TEXT_LINES = 1024;

/** The phrase book text blocks are made of: manifest-like XML lines, fixed per generator seed. */
function makeTextLines(seed: number): Uint8Array[] {
  const rng = createPrng(deriveSeed(seed, 0x7e47));
  const words = [
    'microsoft-windows',
    'servicing',
    'networking',
    'storage',
    'kernel',
    'shell',
    'security',
    'printing',
    'hyperv',
    'directory-services',
    'iis',
    'powershell',
    'wmi',
    'rpc',
    'crypto',
    'tcpip',
    'smb',
    'dns',
    'dhcp',
    'ntfs',
  ];
  const pick = (r: Prng): string => words[r.below(words.length)] ?? 'component';
  const hex = (r: Prng, n: number): string => {
    let s = '';
    while (s.length < n) s += r.next().toString(16).padStart(8, '0');
    return s.slice(0, n);
  };
  const templates: ((r: Prng) => string)[] = [
    (r) =>
      `  <file name="${pick(r)}-${pick(r)}.dll" destinationPath="$(runtime.system32)\\" sourceName="${pick(r)}.dll" importPath="$(build.nttree)\\">\r\n`,
    (r) =>
      `    <asmv2:hash xmlns:asmv2="urn:schemas-microsoft-com:asm.v2"><dsig:DigestValue>${hex(r, 44)}=</dsig:DigestValue></asmv2:hash>\r\n`,
    (r) =>
      `  <assemblyIdentity name="Microsoft-Windows-${pick(r)}" version="10.0.20348.${r.below(3000)}" processorArchitecture="amd64" language="neutral" buildType="release" publicKeyToken="31bf3856ad364e35" versionScope="nonSxS" />\r\n`,
    (r) =>
      `      <registryValue name="${pick(r)}Enabled" valueType="REG_DWORD" value="0x${r.below(16).toString(16)}" />\r\n`,
    (r) =>
      `    <registryKey keyName="HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\${pick(r)}\\Parameters">\r\n`,
    (r) =>
      `  <memberships><categoryMembership><id name="Microsoft.Windows.Categories" version="1.0.0.0" typeName="${pick(r)}" /></categoryMembership></memberships>\r\n`,
    (r) =>
      `    <securityDescriptorDefinition name="WRP_FILE_DEFAULT_SDDL" sddl="O:S-1-5-80-${hex(r, 10)}D:P(A;;FA;;;S-1-5-80-${r.next()})(A;;GRGX;;;BA)(A;;GRGX;;;SY)" />\r\n`,
  ];
  const encoder = new TextEncoder();
  const lines: Uint8Array[] = [];
  for (let i = 0; i < TEXT_LINES; i++) {
    const template = templates[rng.below(templates.length)] ?? templates[0];
    if (template !== undefined) lines.push(encoder.encode(template(rng)));
  }
  return lines;
}

export interface ContentGenerator {
  /** Fills `out` with the bytes of `spec` from byte `offset` (`out.length` bytes, within the size). */
  read(spec: ContentSpec, offset: number, out: Uint8Array): void;
}

/** A generator whose text phrase book comes from `seed`; reuse it for all files of one sample. */
export function createContentGenerator(seed: number): ContentGenerator {
  const lines = makeTextLines(seed);
  const block = new Uint8Array(CONTENT_BLOCK);
  const words = new Uint32Array(CONTENT_BLOCK / 4);
  const wordBytes = new Uint8Array(words.buffer);
  let cachedSeed = -1;
  let cachedMix: ContentMixName | '' = '';

  const kindOf = (mix: ContentMix, blockSeed: number): BlockKind => {
    const roll = blockSeed % 100;
    if (roll < mix.text) return 'text';
    if (roll < mix.text + mix.code) return 'code';
    return 'random';
  };

  const fillText = (rng: Prng): void => {
    let at = 0;
    while (at < CONTENT_BLOCK) {
      const line = lines[rng.below(lines.length)] ?? new Uint8Array(1);
      const n = Math.min(line.length, CONTENT_BLOCK - at);
      block.set(n === line.length ? line : line.subarray(0, n), at);
      at += n;
    }
  };

  const fillCode = (rng: Prng): void => {
    // Skewed bytes (each bit of 0x4f set with probability 1/4: about 3.5 bits of entropy a byte,
    // zero bytes common, as in machine code), then repeats of earlier stretches, as compilers emit
    // (prologues, call sequences, padding), which LZ-style compressors find.
    rng.fill(words);
    for (let i = 0; i < words.length; i++) {
      const w = words[i] ?? 0;
      words[i] = w & (w >>> 3) & 0x4f4f4f4f;
    }
    block.set(wordBytes);
    let at = 4096;
    for (;;) {
      const r = rng.next();
      at += 16 + (r & 127);
      const length = 16 + ((r >>> 8) & 63);
      if (at + length > CONTENT_BLOCK) break;
      const from = at - 16 - ((r >>> 13) % (at - 16));
      block.copyWithin(at, from, from + length);
      at += length;
    }
  };

  const makeBlock = (spec: ContentSpec, index: number): void => {
    const variant = spec.variant;
    const mutated = variant !== undefined && deriveSeed(variant.seed, index) % variant.mutateOneIn === 0;
    const blockSeed = deriveSeed(mutated ? variant.seed : spec.contentSeed, index, 1);
    if (blockSeed === cachedSeed && cachedMix === spec.mix) return;
    const rng = createPrng(blockSeed);
    const kind = kindOf(MIXES[spec.mix], blockSeed);
    if (kind === 'text') fillText(rng);
    else if (kind === 'code') fillCode(rng);
    else {
      rng.fill(words);
      block.set(wordBytes);
    }
    cachedSeed = blockSeed;
    cachedMix = spec.mix;
  };

  const stamp = (spec: ContentSpec, offset: number, out: Uint8Array): void => {
    const variant = spec.variant;
    if (variant === undefined) return;
    const text = `winsmith sample: version ${variant.seed.toString(16)} of this file. `;
    for (let i = 0; i < out.length; i++) out[i] = text.charCodeAt((offset + i) % text.length);
  };

  return {
    read(spec, offset, out) {
      const prefix = spec.variant?.prefix ?? 0;
      let done = 0;
      while (done < out.length) {
        const at = offset + done;
        if (at < prefix) {
          const n = Math.min(prefix - at, out.length - done);
          stamp(spec, at, out.subarray(done, done + n));
          done += n;
          continue;
        }
        const inner = at - prefix;
        const index = Math.floor(inner / CONTENT_BLOCK);
        const within = inner - index * CONTENT_BLOCK;
        const n = Math.min(CONTENT_BLOCK - within, out.length - done);
        makeBlock(spec, index);
        out.set(block.subarray(within, within + n), done);
        done += n;
      }
    },
  };
}
