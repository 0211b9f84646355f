// What the CLI trusts when it talks to a server over HTTPS: the certificate authorities Node
// ships (its copy of Mozilla's), or only the private CA that --ca FILE or WINSMITH_CA names.
// Skipping the check takes an explicit --insecure, which the CLI warns about each time.

import { readFile } from 'node:fs/promises';
import { AppError } from '../../core/errors.ts';

export interface TlsTrust {
  /** A private CA's certificates (PEM) trusted instead of Node's; null: Node's. */
  readonly ca: string | null;
  /** The server's certificate is not checked (--insecure). */
  readonly insecure: boolean;
}

export const DEFAULT_TRUST: TlsTrust = { ca: null, insecure: false };

/** What the CLI was told: --ca FILE (else WINSMITH_CA) and --insecure. */
export interface TrustOptions {
  readonly ca?: string | undefined;
  readonly insecure?: boolean | undefined;
}

export async function loadTrust(
  options: TrustOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<TlsTrust> {
  const insecure = options.insecure === true;
  if (insecure && options.ca !== undefined) {
    throw new AppError('USAGE', '--ca and --insecure are given together', {
      hint: 'keep --ca FILE to check the server against that CA; --insecure checks nothing',
    });
  }
  const file = options.ca ?? (env.WINSMITH_CA === '' ? undefined : env.WINSMITH_CA);
  if (insecure || file === undefined) return { ca: null, insecure };
  const from = options.ca === undefined ? 'WINSMITH_CA' : '--ca';
  let ca: string;
  try {
    ca = await readFile(file, 'utf8');
  } catch (e) {
    throw new AppError('FILE_NOT_FOUND', `the CA certificate ${file} (${from}) cannot be read`, {
      hint: 'name the PEM file of the CA that signed the server certificate',
      cause: e,
    });
  }
  if (!ca.includes('-----BEGIN CERTIFICATE-----')) {
    throw new AppError('FORMAT_INVALID', `the CA certificate ${file} (${from}) holds no PEM certificate`, {
      hint: "give the CA's certificate in PEM form (-----BEGIN CERTIFICATE-----)",
    });
  }
  return { ca, insecure: false };
}
