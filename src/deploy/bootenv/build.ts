// Builds the deploy environment from its inputs: the lock's packages fetched (cache) and unpacked
// (dpkg-deb, no root, nothing installed), the initramfs worked out (plan.ts) and written
// (write-initramfs.ts), the signed kernel copied as it is, and beside it the signed loaders of
// network boot under Secure Boot (shimx64.efi, grubx64.efi: loaders.ts). The output directory holds
// vmlinuz, initrd.img, shimx64.efi, grubx64.efi and bootenv.json, and appears whole or not at all.

import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ignoreProgress, type ProgressListener } from '../../core/progress.ts';
import { dpkgExtract } from '../../engines/dpkg.ts';
import { sha256OfFile } from '../../io/file-sha256.ts';
import { withTempDir, writeOutputDirectory } from '../../io/output.ts';
import { requireFile } from '../../io/paths.ts';
import { BOOTENV_FILES, BOOTENV_MODULE_NAMES } from './content.ts';
import { bootLoadersIn, copyBootLoaders } from './loaders.ts';
import type { BootEnvInputs } from './inputs.ts';
import { fetchLockedPackages } from './package-cache.ts';
import { scanPackageTree } from './package-tree.ts';
import { AGENT_PATH, planBootEnv } from './plan.ts';
import { writeInitramfs, type InitramfsInfo } from './write-initramfs.ts';

export const BOOTENV_FORMAT = 1;
export const BOOTENV_FILE_NAMES = {
  kernel: 'vmlinuz',
  initramfs: 'initrd.img',
  description: 'bootenv.json',
} as const;

/** bootenv.json: what was built, from what. Nothing in it depends on when or where. */
export interface BootEnvInfo {
  readonly format: typeof BOOTENV_FORMAT;
  /** The SHA-256 of the inputs (lock, Node, agent, content): the name of this environment. */
  readonly inputsSha256: string;
  readonly lockSha256: string;
  readonly winsmithVersion: string;
  /** The mtime of every file of the initramfs (the lock's). */
  readonly sourceDateEpoch: number;
  readonly kernel: { readonly version: string; readonly package: string; readonly packageVersion: string };
  readonly node: { readonly version: string; readonly size: number; readonly sha256: string };
  readonly agent: { readonly path: string; readonly size: number; readonly sha256: string };
  readonly files: {
    readonly vmlinuz: { readonly size: number; readonly sha256: string };
    readonly 'initrd.img': InitramfsInfo;
    readonly 'shimx64.efi': { readonly size: number; readonly sha256: string };
    readonly 'grubx64.efi': { readonly size: number; readonly sha256: string };
  };
  readonly modules: {
    readonly loaded: readonly string[];
    readonly builtin: readonly string[];
    readonly files: number;
  };
  /** Every package of the lock; `used` when files of the environment come from it. */
  readonly packages: readonly {
    readonly name: string;
    readonly version: string;
    readonly architecture: string;
    readonly used: boolean;
  }[];
}

export interface BuildOptions {
  /** The directory to create. */
  readonly output: string;
  /** Where the .deb files are kept between builds. */
  readonly cacheDir: string;
  readonly overwrite?: boolean;
  readonly progress?: ProgressListener;
}

/** Runs `work` on each item, two at a time (two dpkg-deb at once keep two cores busy). */
async function inPairs<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < items.length; i = next++) await work(items[i] as T);
  };
  await Promise.all([worker(), worker()]);
}

/** Builds the environment into `options.output`. */
export async function buildBootEnv(inputs: BootEnvInputs, options: BuildOptions): Promise<BootEnvInfo> {
  const progress = options.progress ?? ignoreProgress;
  const { lock } = inputs;
  const debs = await fetchLockedPackages(lock.packages, options.cacheDir, progress);
  const output = resolve(options.output);
  return writeOutputDirectory(
    output,
    (dir) =>
      withTempDir(
        async (scratch) => {
          const unpacked = new Map<string, string>();
          let done = 0;
          await inPairs(lock.packages, async (p) => {
            const into = join(scratch, p.name);
            await mkdir(into);
            await dpkgExtract(debs.get(p.name) ?? '', into);
            unpacked.set(p.name, into);
            progress({
              phase: 'Unpacking packages',
              done: ++done,
              total: lock.packages.length,
              unit: 'items',
            });
          });
          const tree = await scanPackageTree(unpacked);
          const plan = await planBootEnv({
            tree,
            files: BOOTENV_FILES,
            modules: BOOTENV_MODULE_NAMES,
            nodeBinary: inputs.nodeBinary,
            agentBundle: inputs.agentBundle,
          });
          const initramfs = await writeInitramfs(
            plan.entries,
            join(dir, BOOTENV_FILE_NAMES.initramfs),
            lock.sourceDateEpoch,
            progress,
          );
          const vmlinuz = join(dir, BOOTENV_FILE_NAMES.kernel);
          await copyFile(plan.kernel.image, vmlinuz);
          await copyBootLoaders(unpacked, dir);
          const loaders = bootLoadersIn(dir);
          const described = async (path: string) => ({
            size: (await requireFile(path)).size,
            sha256: await sha256OfFile(path),
          });
          const kernelPackage = lock.packages.find((p) => p.name === plan.kernel.package);
          const used = new Set(plan.packagesUsed);
          const info: BootEnvInfo = {
            format: BOOTENV_FORMAT,
            inputsSha256: inputs.sha256,
            lockSha256: inputs.lockSha256,
            winsmithVersion: inputs.version,
            sourceDateEpoch: lock.sourceDateEpoch,
            kernel: {
              version: plan.kernel.version,
              package: plan.kernel.package,
              packageVersion: kernelPackage?.version ?? '',
            },
            node: inputs.node,
            agent: { path: AGENT_PATH, size: inputs.agentBundle.byteLength, sha256: inputs.agentSha256 },
            files: {
              vmlinuz: await described(vmlinuz),
              'initrd.img': initramfs,
              'shimx64.efi': await described(loaders['shimx64.efi']),
              'grubx64.efi': await described(loaders['grubx64.efi']),
            },
            modules: plan.modules,
            packages: lock.packages.map((p) => ({
              name: p.name,
              version: p.version,
              architecture: p.architecture,
              used: used.has(p.name),
            })),
          };
          await writeFile(join(dir, BOOTENV_FILE_NAMES.description), `${JSON.stringify(info, null, 2)}\n`);
          return info;
        },
        'bootenv-work',
        dirname(output),
      ),
    { overwrite: options.overwrite ?? false },
  );
}
