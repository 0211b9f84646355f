// A minimal PE32+ (x86-64) file for the sample image's stand-in binaries that tools inspect: the MS-DOS
// header with e_lfanew, the "PE\0\0" signature, the COFF file header (Machine = AMD64) and a PE32+
// optional header with no sections, followed by text saying what the file is. wimlib reads Machine
// from kernel32.dll to fill the image's WINDOWS/ARCH; nothing here is meant to run.
// Spec: Microsoft "PE Format" (learn.microsoft.com/windows/win32/debug/pe-format): § MS-DOS Stub
// (e_lfanew at 0x3c), § Signature, § COFF File Header, § Optional Header (PE32+, magic 0x20b),
// § Machine Types, § Characteristics, § Windows Subsystem.

export const IMAGE_FILE_MACHINE_AMD64 = 0x8664;
const IMAGE_NT_OPTIONAL_HDR64_MAGIC = 0x20b;
const IMAGE_FILE_EXECUTABLE_IMAGE = 0x0002;
const IMAGE_FILE_LARGE_ADDRESS_AWARE = 0x0020;
const IMAGE_FILE_DLL = 0x2000;
const IMAGE_SUBSYSTEM_WINDOWS_CUI = 3;

/** Where the PE signature goes: after the 64-byte DOS header and its text, 8-aligned. */
const PE_OFFSET = 0x80;
const COFF_SIZE = 20;
/** PE32+ optional header: 112 bytes of fields, then 16 data directories of 8 bytes. */
const OPTIONAL_SIZE = 112 + 16 * 8;

export interface PeStubOptions {
  readonly dll: boolean;
  /** Text placed after the headers (and in the DOS stub area, shortened). */
  readonly text: string;
}

export function makePeStub(options: PeStubOptions): Uint8Array {
  const text = new TextEncoder().encode(options.text);
  const headersEnd = PE_OFFSET + 4 + COFF_SIZE + OPTIONAL_SIZE;
  const out = new Uint8Array(headersEnd + text.length);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  // MS-DOS header: "MZ", and e_lfanew at 0x3c.
  out[0] = 0x4d;
  out[1] = 0x5a;
  view.setUint32(0x3c, PE_OFFSET, true);
  out.set(new TextEncoder().encode('winsmith stand-in, not a program.\r\n$'), 0x40);
  // Signature.
  out.set([0x50, 0x45, 0, 0], PE_OFFSET);
  // COFF file header.
  const coff = PE_OFFSET + 4;
  view.setUint16(coff + 0, IMAGE_FILE_MACHINE_AMD64, true);
  view.setUint16(coff + 2, 0, true); // NumberOfSections
  view.setUint32(coff + 4, 0, true); // TimeDateStamp: 0 keeps the bytes reproducible
  view.setUint16(coff + 16, OPTIONAL_SIZE, true); // SizeOfOptionalHeader
  view.setUint16(
    coff + 18,
    IMAGE_FILE_EXECUTABLE_IMAGE | IMAGE_FILE_LARGE_ADDRESS_AWARE | (options.dll ? IMAGE_FILE_DLL : 0),
    true,
  );
  // Optional header (PE32+).
  const opt = coff + COFF_SIZE;
  view.setUint16(opt + 0, IMAGE_NT_OPTIONAL_HDR64_MAGIC, true);
  view.setBigUint64(opt + 24, options.dll ? 0x1_8000_0000n : 0x1_4000_0000n, true); // ImageBase
  view.setUint32(opt + 32, 0x1000, true); // SectionAlignment
  view.setUint32(opt + 36, 0x200, true); // FileAlignment
  view.setUint16(opt + 40, 10, true); // MajorOperatingSystemVersion
  view.setUint16(opt + 48, 10, true); // MajorSubsystemVersion
  view.setUint32(opt + 56, 0x1000, true); // SizeOfImage
  view.setUint32(opt + 60, 0x200, true); // SizeOfHeaders
  view.setUint16(opt + 68, IMAGE_SUBSYSTEM_WINDOWS_CUI, true);
  view.setUint32(opt + 108, 16, true); // NumberOfRvaAndSizes
  out.set(text, headersEnd);
  return out;
}
