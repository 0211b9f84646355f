// Password hashes: argon2id (RFC 9106) from Node 24's crypto.argon2, stored as PHC strings
// (https://github.com/P-H-C/phc-string-format): `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`,
// salt and hash in standard base64 without padding. Verification recomputes with the stored
// parameters and compares in constant time. Stored parameters are bounded, so a planted hash
// cannot make a login exhaust the server's memory or time.

import { argon2, randomBytes, timingSafeEqual, type Argon2Parameters } from 'node:crypto';

export interface Argon2Params {
  /** Memory in KiB (argon2's m). */
  readonly memoryKiB: number;
  /** Passes over memory (t). */
  readonly passes: number;
  /** Lanes (p). */
  readonly parallelism: number;
}

/** OWASP's argon2id recommendation (m=19 MiB, t=2, p=1): ~50–300 ms a hash on a server core. */
export const DEFAULT_ARGON2: Argon2Params = { memoryKiB: 19_456, passes: 2, parallelism: 1 };
/** Bounds for parameters read from a stored hash: 1 GiB, 16 passes, 16 lanes. */
export const MAX_ARGON2_MEMORY_KIB = 1 << 20;
export const MAX_ARGON2_PASSES = 16;
export const MAX_ARGON2_PARALLELISM = 16;
/** Passwords longer than this are refused before hashing (argon2 itself takes up to 4 GiB). */
export const MAX_PASSWORD_BYTES = 1024;

const ARGON2_VERSION = 19;
const SALT_BYTES = 16;
const HASH_BYTES = 32;

interface ParsedHash {
  readonly params: Argon2Params;
  readonly salt: Buffer;
  readonly hash: Buffer;
}

function derive(password: string, salt: Buffer, params: Argon2Params, length: number): Promise<Buffer> {
  const parameters: Argon2Parameters = {
    message: password,
    nonce: salt,
    parallelism: params.parallelism,
    tagLength: length,
    memory: params.memoryKiB,
    passes: params.passes,
  };
  return new Promise((resolve, reject) => {
    argon2('argon2id', parameters, (err, key) => {
      if (err !== null) reject(err);
      else resolve(key);
    });
  });
}

function paramsWithinBounds(p: Argon2Params): boolean {
  return (
    Number.isSafeInteger(p.memoryKiB) &&
    Number.isSafeInteger(p.passes) &&
    Number.isSafeInteger(p.parallelism) &&
    p.parallelism >= 1 &&
    p.parallelism <= MAX_ARGON2_PARALLELISM &&
    p.passes >= 1 &&
    p.passes <= MAX_ARGON2_PASSES &&
    p.memoryKiB >= 8 * p.parallelism &&
    p.memoryKiB <= MAX_ARGON2_MEMORY_KIB
  );
}

const B64 = /^[A-Za-z0-9+/]+$/;

/** Reads a PHC argon2id string; undefined when it is not one this module would accept. */
export function parsePasswordHash(phc: string): ParsedHash | undefined {
  const parts = phc.split('$');
  if (parts.length !== 6 || parts[0] !== '' || parts[1] !== 'argon2id') return undefined;
  if (parts[2] !== `v=${ARGON2_VERSION}`) return undefined;
  const m = /^m=(\d{1,8}),t=(\d{1,3}),p=(\d{1,3})$/.exec(parts[3] ?? '');
  const salt64 = parts[4] ?? '';
  const hash64 = parts[5] ?? '';
  if (m === null || !B64.test(salt64) || !B64.test(hash64)) return undefined;
  const params = { memoryKiB: Number(m[1]), passes: Number(m[2]), parallelism: Number(m[3]) };
  if (!paramsWithinBounds(params)) return undefined;
  const salt = Buffer.from(salt64, 'base64');
  const hash = Buffer.from(hash64, 'base64');
  if (salt.length < 8 || salt.length > 64 || hash.length < 16 || hash.length > 64) return undefined;
  return { params, salt, hash };
}

function checkPasswordSize(password: string): boolean {
  return Buffer.byteLength(password, 'utf8') <= MAX_PASSWORD_BYTES;
}

/** Hashes a password with a fresh random salt; the result is a PHC string. */
export async function hashPassword(password: string, params: Argon2Params = DEFAULT_ARGON2): Promise<string> {
  if (!checkPasswordSize(password)) {
    throw new RangeError(`password is longer than ${MAX_PASSWORD_BYTES} bytes`);
  }
  if (!paramsWithinBounds(params)) throw new RangeError('argon2 parameters out of bounds');
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(password, salt, params, HASH_BYTES);
  const b64 = (b: Buffer) => b.toString('base64').replace(/=+$/, '');
  return `$argon2id$v=${ARGON2_VERSION}$m=${params.memoryKiB},t=${params.passes},p=${params.parallelism}$${b64(salt)}$${b64(hash)}`;
}

/**
 * Whether `password` matches the stored PHC string. A malformed or out-of-bounds stored hash, or
 * an over-long password, never matches.
 */
export async function verifyPassword(password: string, phc: string): Promise<boolean> {
  const parsed = parsePasswordHash(phc);
  if (parsed === undefined || !checkPasswordSize(password)) return false;
  const candidate = await derive(password, parsed.salt, parsed.params, parsed.hash.length);
  return timingSafeEqual(candidate, parsed.hash);
}
