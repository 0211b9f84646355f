// One program bundled into one ES module file with esbuild (its npm package ships its own binary,
// which its JavaScript API runs): every import inlined, npm packages included, for Node. Paths in
// the bundle's comments are relative to `root`, so the same sources give the same bytes wherever
// they are checked out.

import { AppError } from '../core/errors.ts';

export interface BundleOptions {
  /** The folder the sources are named from in the bundle (the package's root). */
  readonly root: string;
  /** The Node version to write for, e.g. 'node24'. */
  readonly target: string;
  /** Expressions replaced by these JSON texts, e.g. { 'process.env.WINSMITH_VERSION': '"0.1.0"' }. */
  readonly define?: Readonly<Record<string, string>>;
}

/**
 * CommonJS packages inlined into an ES module may still call require() for Node's own modules:
 * give the bundle one.
 */
const REQUIRE_SHIM =
  "import { createRequire as __createRequire } from 'node:module';\nconst require = __createRequire(import.meta.url);";

/** The bundle of `entry` (a .ts or .js file) as one ES module. */
export async function bundleModule(entry: string, options: BundleOptions): Promise<Uint8Array> {
  let esbuild: typeof import('esbuild');
  try {
    esbuild = await import('esbuild');
  } catch (cause) {
    throw new AppError('MISSING_PROGRAM', 'esbuild is not installed', {
      hint: 'install the npm dependencies of winsmith (npm ci), which include esbuild',
      cause,
    });
  }
  let result;
  try {
    result = await esbuild.build({
      entryPoints: [entry],
      absWorkingDir: options.root,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: options.target,
      define: { ...options.define },
      banner: { js: REQUIRE_SHIM },
      legalComments: 'eof',
      charset: 'utf8',
      write: false,
      logLevel: 'silent',
    });
  } catch (cause) {
    const errors = (cause as { errors?: { text: string; location: { file: string; line: number } | null }[] })
      .errors;
    const first = errors?.[0];
    const where = first?.location ? `${first.location.file}:${first.location.line}: ` : '';
    throw new AppError(
      'PROGRAM_FAILED',
      `esbuild could not bundle ${entry}: ${where}${first?.text ?? String(cause)}`,
      {
        hint: 'the message is from esbuild: fix the source it names',
        cause,
      },
    );
  }
  const [output] = result.outputFiles;
  if (output === undefined || result.outputFiles.length !== 1) {
    throw new AppError(
      'INTERNAL',
      `esbuild wrote ${result.outputFiles.length} files for ${entry}; expected 1`,
    );
  }
  return output.contents;
}
