// The deploy environment as the boot routes serve it: built on first need (a machine with a
// queued deployment asks for its script) into the data directory, or taken from a directory
// `winsmith bootenv build` made; then its kernel and initramfs are put into the boot root under
// names of their own (winsmith-<digest>-vmlinuz, -initrd.img), which /boot/files serves. Until
// then the boot routes are told "not ready" and the machine waits. A build that fails is logged
// and tried again on a need a minute later. One `winsmith bootenv build` made is only read and
// linked: that is begun as the server starts, so that the first machine does not wait for it.
// The signed loaders of Secure Boot network boot (shimx64.efi, grubx64.efi) are put into the boot
// root as the server starts, from that directory or taken out of their packages alone (seconds),
// so that a machine sent to shim finds it there even while the environment itself is built.

import type { BootLog } from '../boot/boot-log.ts';
import { publishBootFile } from '../boot/boot-files.ts';
import type { DeployEnvironmentFiles } from '../boot/http-boot.ts';
import { agentCommandLine } from '../deploy/agent-protocol.ts';
import {
  bootEnvFor,
  bootEnvLoaders,
  bootLoadersFor,
  readBootEnvDirectory,
  type CachedBootEnv,
} from './bootenv.ts';
import { errorText } from '../core/errors.ts';

/** How long after a failed build the next need starts another. */
const RETRY_MS = 60_000;

export interface DeployEnvironmentSource {
  /** Where the server builds it (DATA/bootenv); used when `prebuilt` is null. */
  readonly dataDir: string;
  /** A directory `winsmith bootenv build` made, served as it is; null: build on first need. */
  readonly prebuilt: string | null;
  /** The boot root /boot/files serves. */
  readonly bootRoot: string;
  readonly log: BootLog;
}

/** `files()` for the boot routes: the environment's boot files once ready, null until then. */
export class DeployEnvironment {
  readonly #source: DeployEnvironmentSource;
  #ready: DeployEnvironmentFiles | null = null;
  #preparing: Promise<void> | null = null;
  #failedAt = 0;

  constructor(source: DeployEnvironmentSource) {
    this.#source = source;
  }

  /** Starts preparing it, unless it is ready, being prepared, or failed less than a minute ago. */
  begin(): void {
    if (this.#ready === null && this.#preparing === null && Date.now() - this.#failedAt >= RETRY_MS) {
      this.#preparing = this.prepare().finally(() => {
        this.#preparing = null;
      });
    }
  }

  /** The boot files, or null while they are prepared (this starts the preparing). */
  files(): DeployEnvironmentFiles | null {
    this.begin();
    return this.#ready;
  }

  /**
   * Puts the signed loaders into the boot root under the names they are served by; failures are
   * logged, not thrown (machines sent to shim then find nothing, and the log says why).
   */
  async installLoaders(): Promise<void> {
    const { log, prebuilt, dataDir, bootRoot } = this.#source;
    try {
      const loaders =
        prebuilt === null
          ? await bootLoadersFor(dataDir)
          : await bootEnvLoaders(await readBootEnvDirectory(prebuilt));
      for (const [name, path] of Object.entries(loaders)) await publishBootFile(path, bootRoot, name);
      log.log('info', 'secure boot loaders installed', { files: Object.keys(loaders) });
    } catch (e) {
      log.log('error', 'secure boot loaders: not available', { error: errorText(e) });
    }
  }

  /** Builds (or reads) and publishes the environment; failures are logged, not thrown. */
  async prepare(): Promise<void> {
    const { log, prebuilt, dataDir, bootRoot } = this.#source;
    log.log('info', 'deploy environment: preparing', { from: prebuilt ?? `${dataDir}/bootenv` });
    try {
      const env: CachedBootEnv =
        prebuilt === null ? await bootEnvFor(dataDir) : await readBootEnvDirectory(prebuilt);
      const stem = `winsmith-${env.info.inputsSha256.slice(0, 16)}`;
      const kernel = `${stem}-vmlinuz`;
      const initrd = `${stem}-initrd.img`;
      await publishBootFile(env.kernel, bootRoot, kernel);
      await publishBootFile(env.initramfs, bootRoot, initrd);
      this.#ready = { kernel, initrd, commandLine: agentCommandLine };
      log.log('info', 'deploy environment: ready', {
        dir: env.dir,
        built: env.built,
        kernel: env.info.kernel.version,
        files: [kernel, initrd],
      });
    } catch (e) {
      this.#failedAt = Date.now();
      log.log('error', 'deploy environment: not available', {
        error: errorText(e),
        retryInSeconds: RETRY_MS / 1000,
      });
    }
  }
}
