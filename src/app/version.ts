// winsmith's version: the one in the package.json beside src/ (or dist/).

import { readFileSync } from 'node:fs';

export function winsmithVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}
