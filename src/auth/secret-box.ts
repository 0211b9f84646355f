// Secrets at rest (a machine's administrator password, domain-join credentials, a profile's given
// passwords, a rendered unattend that holds them): sealed with AES-256-GCM (NIST SP 800-38D) under
// one key that lives outside the catalog, so a copy of the database alone reveals none of them.
// The key is 32 random bytes: a file (mode 0600, created on first need) or an environment variable
// holding it in base64. A sealed value is `v1.<iv>.<tag>.<ciphertext>` in base64url; the iv is 12
// random bytes per seal, the tag authenticates the ciphertext and its purpose (`aad`: what the value
// is for, so a value sealed as one thing cannot be opened as another).

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { AppError } from '../core/errors.ts';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const VERSION = 'v1';

export class SecretBox {
  readonly #key: Buffer;

  constructor(key: Uint8Array) {
    if (key.length !== KEY_BYTES) {
      throw new AppError(
        'INVALID_ARGUMENT',
        `a secrets key is ${KEY_BYTES} bytes, this one has ${key.length}`,
        {
          hint: 'give 32 random bytes in base64 (openssl rand -base64 32)',
        },
      );
    }
    this.#key = Buffer.from(key);
  }

  seal(plaintext: string, aad: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(aad));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, iv, cipher.getAuthTag(), ciphertext]
      .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
      .join('.');
  }

  open(sealed: string, aad: string): string {
    const [version, iv, tag, ciphertext, ...rest] = sealed.split('.');
    if (
      version !== VERSION ||
      iv === undefined ||
      tag === undefined ||
      ciphertext === undefined ||
      rest.length > 0
    ) {
      throw new AppError('FORMAT_INVALID', 'a sealed secret of the catalog is not in the v1 form', {
        hint: 'the catalog database was changed by something other than winsmith',
      });
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(aad));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([
        decipher.update(Buffer.from(ciphertext, 'base64url')),
        decipher.final(),
      ]).toString('utf8');
    } catch (cause) {
      throw new AppError('FORBIDDEN', "a sealed secret does not open with this server's key", {
        hint: 'the secrets key changed since it was sealed: restore the key file (or the variable) it was sealed with',
        cause,
      });
    }
  }
}

/** Where the key comes from: a variable holding it (base64), or a file made on first need. */
export type SecretKeySource =
  { readonly env: string; readonly value: string | undefined } | { readonly file: string };

/** The key of `source`; a key file that does not exist yet is created, 32 random bytes, mode 0600. */
export async function loadSecretBox(source: SecretKeySource): Promise<SecretBox> {
  if ('env' in source) {
    const key = Buffer.from(source.value ?? '', 'base64');
    if (source.value === undefined || key.length !== KEY_BYTES) {
      throw new AppError(
        'INVALID_ARGUMENT',
        `$${source.env} does not hold a ${KEY_BYTES}-byte key in base64`,
        {
          hint: `set ${source.env} to the output of: openssl rand -base64 32`,
        },
      );
    }
    return new SecretBox(key);
  }
  await mkdir(dirname(source.file), { recursive: true });
  try {
    const handle = await open(source.file, 'wx', 0o600);
    try {
      await handle.writeFile(randomBytes(KEY_BYTES));
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  await chmod(source.file, 0o600);
  return new SecretBox(await readFile(source.file));
}
