// winsmith on the stores themselves: the catalog database (images, accounts, audit, machines) and
// the chunk store, opened from a data directory or a server config. `winsmith server` serves it;
// the CLI works on it for --repo PATH. A caller gets a Session for an actor (`as`); the operations
// that come before there is an actor (token authentication, password login, the first admin,
// health) and what the HTTP API announces (chunk sizes and limits) are here.

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { AccountStore } from '../auth/account-store.ts';
import type { Principal } from '../auth/roles.ts';
import type { KeepPassword } from '../auth/users.ts';
import type { ServerFigures } from './session.ts';
import { AuditLog } from '../audit/audit-log.ts';
import type { BootMachineRegistry } from '../boot/http-boot.ts';
import type { LeaseStore } from '../boot/dhcp-handler.ts';
import type { ServerSettings } from '../config/server-config.ts';
import {
  DEFAULT_AGENT_TIMEOUT_SECONDS,
  DEFAULT_BOOT_TIMEOUT_SECONDS,
  DEFAULT_GC_GRACE_SECONDS,
  DEFAULT_HEARTBEAT_SECONDS,
  DEFAULT_MAX_CHUNK_BYTES,
  embeddedSettings,
  SHARE_DIR,
} from '../config/server-config.ts';
import { openDatabase, type Database, type DatabaseConfig } from '../db/database.ts';
import { bootRegistryOf } from './boot-registry.ts';
import { MachineStore } from '../machines/machine-store.ts';
import type { BlobStore } from '../store/blob-store.ts';
import { FsBlobStore } from '../store/blob-store-fs.ts';
import { blobStoreOf } from '../store/blob-store-open.ts';
import { ChunkStore } from '../store/chunk-store.ts';
import { CHUNKER_DEFAULTS, type ChunkerOptions } from '../store/chunker.ts';
import { ImageCatalog } from '../store/image-catalog.ts';
import { LocalRepository, type LocalRepositoryConfig } from '../store/repository-local.ts';
import { loadSecretBox, type SecretBox, type SecretKeySource } from '../auth/secret-box.ts';
import { DeploymentStore } from '../deploy/deployment-store.ts';
import { MulticastStore } from '../deploy/multicast-store.ts';
import { AccountService } from './accounts.ts';
import {
  DeploymentService,
  deploymentsFor,
  type AgentSession,
  type DeploymentSettings,
} from './deployments.ts';
import { BuildService, buildsFor, type BuildSettings } from './builds.ts';
import { EventHub } from './events.ts';
import { recorderFor } from './audit-trail.ts';
import { imagesFor } from './images.ts';
import { ImageInspector, type DirectoryPage, type ImageDiffAnswer } from './image-inspect.ts';
import { visibleTo } from './visibility.ts';
import type { ImageRef } from '../core/names.ts';
import { machinesFor } from './machines.ts';
import type { Actor, IssuedToken, Session } from './session.ts';

/** Where the stores are, how the repository takes pushes, where the secrets key is, and how deployments are watched. */
export interface LocalAppConfig extends LocalRepositoryConfig {
  readonly catalog: DatabaseConfig;
  readonly blobs: BlobStore;
  /** Directory to create first (the data directory), or null. */
  readonly dataDir: string | null;
  readonly secrets: SecretKeySource;
  readonly deploy: DeploymentSettings;
  /** The deployment share: the folder whose files profiles' steps name. */
  readonly share: string;
  /** Where builds run by the server are kept, how many run at once, on which accelerator. */
  readonly builds: BuildSettings;
}

/** The secrets key's file in a data directory (made on first need, mode 0600). */
export const SECRETS_KEY_FILE = 'secrets.key';

export const DEFAULT_DEPLOYMENT_SETTINGS: DeploymentSettings = {
  heartbeatSeconds: DEFAULT_HEARTBEAT_SECONDS,
  agentTimeoutSeconds: DEFAULT_AGENT_TIMEOUT_SECONDS,
  bootTimeoutSeconds: DEFAULT_BOOT_TIMEOUT_SECONDS,
};

export class LocalApp {
  /** The catalog database, for tests that look at it directly; nothing else reads it here. */
  readonly database: Database;
  /** Jobs' progress and deployments' changes, for server-sent events. */
  readonly events = new EventHub();
  readonly #repo: LocalRepository;
  readonly #audit: AuditLog;
  readonly #accounts: AccountService;
  readonly #machines: MachineStore;
  readonly #deployments: DeploymentService;
  readonly #deploySettings: DeploymentSettings;
  readonly #builds: BuildService;
  readonly #inspector: ImageInspector;

  private constructor(
    database: Database,
    repo: LocalRepository,
    box: SecretBox,
    config: Pick<LocalAppConfig, 'deploy' | 'share' | 'builds'>,
  ) {
    this.database = database;
    this.#repo = repo;
    this.#audit = new AuditLog(database);
    this.#accounts = new AccountService(new AccountStore(database), this.#audit);
    this.#machines = new MachineStore(database);
    this.#deploySettings = config.deploy;
    this.#deployments = new DeploymentService({
      store: new DeploymentStore(database),
      machines: this.#machines,
      repo,
      box,
      audit: this.#audit,
      events: this.events,
      settings: config.deploy,
      share: config.share,
      multicastStore: new MulticastStore(database),
    });
    this.#inspector = new ImageInspector(repo);
    this.#builds = new BuildService({
      settings: config.builds,
      share: config.share,
      events: this.events,
      sessionNow: async (actor, needs) => this.as(await this.#accounts.actorNow(actor, needs)),
      recorderFor: (actor) => recorderFor(this.#audit, actor),
    });
  }

  static async open(config: LocalAppConfig): Promise<LocalApp> {
    if (config.dataDir !== null) await mkdir(config.dataDir, { recursive: true });
    const box = await loadSecretBox(config.secrets);
    const database = await openDatabase(config.catalog);
    try {
      const chunks = new ChunkStore(config.blobs, config.chunking ?? CHUNKER_DEFAULTS);
      const repo = new LocalRepository(new ImageCatalog(database), chunks, config);
      await repo.indexArtifactChunks();
      return new LocalApp(database, repo, box, config);
    } catch (e) {
      await database.close();
      throw e;
    }
  }

  /** A data directory with the embedded defaults: SQLite catalog and filesystem blobs. */
  static openDataDir(
    dataDir: string,
    options: Partial<
      Pick<LocalRepositoryConfig, 'gcGraceSeconds' | 'maxChunkBytes' | 'maxManifestChunks'>
    > & {
      readonly chunking?: ChunkerOptions;
      readonly deploy?: DeploymentSettings;
      /** How builds run here (max 0: they are queued and wait). */
      readonly builds?: Partial<BuildSettings>;
    } = {},
  ): Promise<LocalApp> {
    return LocalApp.open({
      catalog: { kind: 'sqlite', path: `${dataDir}/catalog.sqlite` },
      blobs: new FsBlobStore(`${dataDir}/blobs`),
      dataDir,
      chunking: options.chunking ?? null,
      gcGraceSeconds: options.gcGraceSeconds ?? DEFAULT_GC_GRACE_SECONDS,
      maxChunkBytes: options.maxChunkBytes ?? DEFAULT_MAX_CHUNK_BYTES,
      ...(options.maxManifestChunks === undefined ? {} : { maxManifestChunks: options.maxManifestChunks }),
      secrets: { file: join(dataDir, SECRETS_KEY_FILE) },
      deploy: options.deploy ?? DEFAULT_DEPLOYMENT_SETTINGS,
      share: join(dataDir, SHARE_DIR),
      builds: { ...embeddedSettings(dataDir).builds, ...options.builds },
    });
  }

  /** The repository a server config describes (SQLite + files, or PostgreSQL + S3). */
  static async openConfigured(settings: ServerSettings): Promise<LocalApp> {
    return LocalApp.open({
      catalog: settings.catalog,
      blobs: await blobStoreOf(settings),
      dataDir: settings.catalog.kind === 'sqlite' || settings.blobs.kind === 'fs' ? settings.data : null,
      chunking: settings.chunking,
      gcGraceSeconds: settings.gcGraceSeconds,
      maxChunkBytes: settings.maxChunkBytes,
      maxManifestChunks: settings.maxManifestChunks,
      secrets:
        settings.secretsKeyEnv === null
          ? { file: join(settings.data, SECRETS_KEY_FILE) }
          : { env: settings.secretsKeyEnv, value: process.env[settings.secretsKeyEnv] },
      deploy: {
        heartbeatSeconds: settings.heartbeatSeconds,
        agentTimeoutSeconds: settings.agentTimeoutSeconds,
        bootTimeoutSeconds: settings.bootTimeoutSeconds,
        multicast: settings.multicast,
      },
      share: settings.share,
      builds: settings.builds,
    });
  }

  get location(): string {
    return this.#repo.location;
  }

  get chunking(): ChunkerOptions {
    return this.#repo.chunking;
  }

  get maxChunkBytes(): number {
    return this.#repo.maxChunkBytes;
  }

  get maxManifestChunks(): number {
    return this.#repo.maxManifestChunks;
  }

  /** What `actor` can do (the caller has checked its rights to each operation). */
  as(actor: Actor): Session {
    const record = recorderFor(this.#audit, actor);
    return {
      location: this.location,
      images: imagesFor(this.#repo, actor, record),
      accounts: this.#accounts.for(actor),
      machines: machinesFor(this.#machines, this.#deployments, this.events, actor, record),
      ...deploymentsFor(this.#deployments, actor),
      builds: buildsFor(this.#builds, actor),
      close: () => this.close(),
    };
  }

  /** How deployments are watched: the agents' heartbeat and the silence that fails one. */
  get deploymentSettings(): DeploymentSettings {
    return this.#deploySettings;
  }

  /** Fails the deployments whose agent has been silent past the timeout; how many. */
  sweepDeployments(now = Date.now()): Promise<number> {
    return this.#deployments.sweep(now);
  }

  /** The principal of a token, or null when it is unknown, revoked or expired. */
  authenticate(token: string): Promise<Principal | null> {
    return this.#accounts.authenticate(token);
  }

  /** A token for a correct user name and password, rate-limited per user and client address. */
  login(user: string, password: string, client: string): Promise<IssuedToken> {
    return this.#accounts.login(user, password, client);
  }

  /**
   * On a repository without users: creates 'admin' with a generated password, returned once (and
   * first handed to `keep`, which may give back one an earlier start kept).
   */
  ensureFirstAdmin(actor: Actor, keep?: KeepPassword): Promise<{ name: string; password: string } | null> {
    return this.#accounts.ensureFirstAdmin(actor, keep);
  }

  /** The image name an open upload is for (NOT_FOUND when there is no such upload). */
  uploadImageName(id: string): Promise<string> {
    return this.#repo.uploadImageName(id);
  }

  /** The machines' ports the boot services use. */
  bootPorts(): { readonly registry: BootMachineRegistry; readonly leases: LeaseStore } {
    return {
      registry: bootRegistryOf(this.#machines, this.#deployments, this.events),
      leases: this.#machines,
    };
  }

  /** What the deploy agent holding `token` may do (UNAUTHORIZED when it opens no deployment under way). */
  agent(token: string, client: string): Promise<AgentSession> {
    return this.#deployments.agent(token, client);
  }

  /** The image name a deployment request, or a deployment, is of: for the caller's scope check. */
  deploymentImage(
    of: { readonly profile: string; readonly image?: string } | { readonly deployment: string },
  ): Promise<string> {
    return 'deployment' in of
      ? this.#deployments.imageNameOf(of.deployment)
      : this.#deployments.imageNameFor(of);
  }

  /** Makes this process run the builds (the server): its queued ones start, its interrupted ones fail. */
  serveBuilds(): Promise<void> {
    return this.#builds.serve();
  }

  /** The output image name of a build, for the caller's scope check. */
  buildImage(id: string): Promise<string> {
    return this.#builds.imageOf(id);
  }

  /** The image name a build recipe's text stores into, for the caller's rights. */
  buildRecipeOutput(text: string, file: string): string | null {
    return this.#builds.recipeOutput(text, file);
  }

  /** A page of one directory of edition `index` of `ref` (the caller has checked it may read `ref`). */
  listImageDirectory(
    ref: ImageRef,
    index: number,
    path: string,
    page: { readonly offset: number; readonly limit: number },
  ): Promise<DirectoryPage> {
    return this.#inspector.listDirectory(ref, index, path, page);
  }

  /** What differs between two images, both of which `actor` must be able to read. */
  diffImages(
    actor: Actor,
    a: ImageRef & { readonly index: number },
    b: ImageRef & { readonly index: number },
  ): Promise<ImageDiffAnswer> {
    return this.#inspector.diff(a, b, visibleTo(actor));
  }

  /** The figures the server's metrics show: deployments by state, the store's size. */
  async figures(): Promise<ServerFigures> {
    const [deployments, store] = await Promise.all([this.#deployments.countByState(), this.#repo.stats()]);
    return { deployments, store };
  }

  /** Throws when the catalog or the blob store cannot be reached. */
  health(): Promise<void> {
    return this.#repo.health();
  }

  async close(): Promise<void> {
    await this.#builds.close();
    await this.#deployments.close();
    await this.database.close();
  }
}
