// CRC-32 as GPT uses it (UEFI 2.10 §5.3.2: "CRC32 … the standard CCITT32 CRC algorithm", which is
// the IEEE 802.3 / ISO-HDLC CRC: reflected polynomial 0xEDB88320, initial value and final XOR
// 0xFFFFFFFF). Table-driven, one byte a step; pure so the codecs of this layer can use it.

const POLYNOMIAL = 0xedb88320;

const TABLE: Uint32Array = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? POLYNOMIAL ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 of `bytes`; pass the previous result as `crc` to continue over more bytes. */
export function crc32(bytes: Uint8Array, crc = 0): number {
  let c = (crc ^ 0xffffffff) >>> 0;
  for (const byte of bytes) c = (TABLE[(c ^ byte) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
