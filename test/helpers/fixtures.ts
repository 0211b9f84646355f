// The real Windows-made files live beside the project in ../shared/fixtures/real and are read in
// place, never copied. Where that folder is absent, tests that need it are skipped, saying so.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const REAL_FIXTURES = fileURLToPath(new URL('../../../shared/fixtures/real/', import.meta.url));

/** The path of a real fixture, or a skip reason for node:test's `skip` option when it is absent. */
export function realFixture(
  relative: string,
): { path: string; skip: false } | { path: string; skip: string } {
  const path = join(REAL_FIXTURES, relative);
  return existsSync(path) ? { path, skip: false } : { path, skip: `real fixture ${path} is absent` };
}
