// Deployments as the application runs them: profiles applied and listed; a deployment made for
// one machine from a profile (the image resolved, the machine's answer file rendered with its
// name, password and addresses, both sealed); the boot script's one start of the deploy
// environment, which gives the agent its token; the agent's calls (its task, reports, the image's
// manifest and chunks, the answer file once, the files of the deployment share its profile's steps
// name); cancel, retry, and the heartbeat watch. A capture is a deployment of another kind: its
// agent reads the machine's Windows and streams a WIM into the repository as the target NAME:TAG,
// which it may push and nothing else; the image records the machine it was captured from. Every
// change is audited and published as an event; no secret is ever in either.

import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AuditLog } from '../audit/audit-log.ts';
import type { SecretBox } from '../auth/secret-box.ts';
import { AppError } from '../core/errors.ts';
import { formatImageRef, parseImageRef } from '../core/names.ts';
import {
  AGENT_STATES,
  CAPTURE_AGENT_STATES,
  type AgentReport,
  type AgentTask,
  type AnyAgentTask,
  type CaptureResult,
  type CaptureTask,
  type DeploymentState,
  type MulticastJoin,
} from '../deploy/agent-protocol.ts';
import {
  isEnded,
  noDeployment,
  type Deployment,
  type DeploymentFilter,
  type DeploymentStore,
  type StoredProfile,
} from '../deploy/deployment-store.ts';
import {
  generateAdminPassword,
  machineUnattendProfile,
  type EditionFacts,
  type MachineFacts,
} from '../deploy/machine-answer.ts';
import {
  keepProfileSecrets,
  parseProfile,
  redactProfile,
  type DeploymentProfile,
} from '../deploy/profile.ts';
import { profileStepsText } from '../deploy/profile-steps.ts';
import {
  listShareFiles,
  openShareFile,
  type OpenedShareFile,
  type ShareFile,
} from '../deploy/deployment-share.ts';
import { DEFAULT_LAYOUTS } from '../image/disk/layout.ts';
import { renderProfile } from '../image/unattend.ts';
import {
  SECURE_BOOT_KEY,
  type Machine,
  type MachineStore,
  type SecureBootState,
} from '../machines/machine-store.ts';
import type { UefiChainSetting } from '../core/uefi-chain.ts';
import type { Manifest } from '../store/manifest.ts';
import type { LocalRepository } from '../store/repository-local.ts';
import type { ArtifactMeta, Content, ImageRecord } from '../store/repository.ts';
import { MEDIA_TYPES } from '../store/manifest.ts';
import { validateManifest } from '../store/manifest.ts';
import type { ByteSource } from '../core/byte-source.ts';
import { wimContentMeta } from './artifact-meta.ts';
import { ConcurrencyLimit } from '../core/concurrency-limit.ts';
import type { MulticastStore } from '../deploy/multicast-store.ts';
import { recorderFor } from './audit-trail.ts';
import type { EventHub } from './events.ts';
import { MulticastService, type DeploymentMulticast, type MulticastRules } from './multicast.ts';
import { DEFAULT_MULTICAST, type MulticastSettings } from '../config/server-config.ts';
import type { Actor, Deployments, Profiles } from './session.ts';
import { everyImage, visibleTo, type ImageVisibility } from './visibility.ts';

/** A deployment as it is shown: everything but its secrets; its multicast session's part when in one. */
export type DeploymentView = Omit<Deployment, 'sealed'> & {
  readonly machine: { readonly id: string; readonly name: string | null; readonly mac: string | null };
  readonly multicast?: DeploymentMulticast;
};

/** What a listing shows of a profile (no secret: a password is only said to be generated or given). */
export interface ProfileSummary {
  readonly image: string;
  readonly edition: number;
  readonly firmware: 'uefi' | 'bios' | 'auto';
  readonly finish: 'reboot' | 'poweroff';
  readonly computerName: string | null;
  readonly adminPassword: 'generate' | 'given' | null;
  /** The kinds of its customize: steps, in order (absent from profiles stored before steps existed). */
  readonly customize?: readonly string[];
}

export interface ProfileView {
  readonly name: string;
  readonly summary: ProfileSummary;
  readonly updatedBy: string | null;
  readonly updatedAt: string;
}

export interface DeploymentRequest {
  /** The machine, by id, MAC or name. */
  readonly machine: string;
  readonly profile: string;
  /** Another image than the profile's, NAME:TAG. */
  readonly image?: string;
}

export interface CaptureRequest {
  /** The machine, by id, MAC or name. */
  readonly machine: string;
  /** The image to make, NAME:TAG. */
  readonly tag: string;
  /** The partition to capture; absent: the largest NTFS partition holding Windows. */
  readonly partition?: number;
}

/** Where a captured image came from, as its record keeps it (in `recipe`, under `capturedFrom`). */
export interface CaptureLineage {
  readonly machine: string;
  readonly machineId: string;
  readonly mac: string | null;
  readonly uuid: string | null;
  readonly manufacturer: string | null;
  readonly model: string | null;
  readonly serial: string | null;
  readonly capturedAt: string;
  readonly deployment: string;
}
/** Deployments of one profile to several machines, sent the image in one multicast session. */
export interface MulticastRequest extends MulticastRules {
  /** The session's name. */
  readonly group: string;
  /** The machines, each by id, MAC or name. */
  readonly machines: readonly string[];
  readonly profile: string;
  /** Another image than the profile's, NAME:TAG. */
  readonly image?: string;
}

/** A multicast group's name: what a command line and a log line take without quoting. */
const GROUP_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** Machines one multicast session sends to, at most. */
export const MAX_MULTICAST_MACHINES = 256;

/** What the agent holding a deployment's token may do: its own deployment, nothing else. */
export interface AgentSession {
  readonly deployment: string;
  task(): Promise<AnyAgentTask>;
  report(report: AgentReport): Promise<void>;
  manifest(): Promise<Manifest>;
  /** One chunk of the deployment's image. */
  chunk(digest: string): Promise<Content>;
  /** The machine's answer file, once. */
  unattend(): Promise<string>;
  /** The files of the deployment share the profile's steps name, and those in the folders they name. */
  shareFiles(): Promise<ShareFile[]>;
  /** One of those files (FORBIDDEN for any other). */
  shareFile(path: string): Promise<OpenedShareFile>;
  /** A capture's: of these chunks, those the repository still needs from it. */
  captureMissing(digests: readonly string[]): Promise<string[]>;
  /** A capture's: one chunk of the image it streams. */
  captureChunk(digest: string, bytes: Uint8Array): Promise<void>;
  /** A capture's: the manifest; the image is checked whole and listed as the capture's NAME:TAG. */
  captureCommit(manifest: unknown): Promise<CaptureResult>;
  /** How to receive the image: from the deployment's multicast session, or over HTTP. */
  multicast(): Promise<MulticastJoin>;
}

/** The sealed part of a deployment. */
interface DeploymentSecrets {
  readonly adminPassword: string | null;
  readonly unattend: string;
  /** The profile's YAML as it was when the deployment was made: the deployment keeps to it. */
  readonly profile: string;
}

export interface DeploymentSettings {
  /** A report is due at least this often from a working agent. */
  readonly heartbeatSeconds: number;
  /** An agent that has reported, then is silent this long, has its deployment failed ("agent lost"). */
  readonly agentTimeoutSeconds: number;
  /** A deployment whose agent has not reported this long after its machine booted the deploy environment fails. */
  readonly bootTimeoutSeconds: number;
  /** Multicast sessions' defaults and where they send (none possible without it). */
  readonly multicast?: MulticastSettings;
}

const SECRETS_AAD = (id: string): string => `deployment:${id}:secrets`;
const PROFILE_AAD = (name: string): string => `profile:${name}`;

/** The order the agent's states come in: a report may only move a deployment forward. */
const AGENT_ORDER: readonly DeploymentState[] = ['booting', ...AGENT_STATES];
const CAPTURE_ORDER: readonly DeploymentState[] = ['booting', ...CAPTURE_AGENT_STATES];

/** A stored profile as listings show it (its summary is the one applyProfile wrote). */
function profileView(stored: StoredProfile): ProfileView {
  return {
    name: stored.name,
    summary: stored.summary as unknown as ProfileSummary,
    updatedBy: stored.updatedBy,
    updatedAt: stored.updatedAt,
  };
}

function hashAgentToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function editionFacts(image: ImageRecord, index: number): EditionFacts {
  const edition = image.editions[index - 1] as Record<string, unknown> | undefined;
  const build = typeof edition?.build === 'string' ? Number(edition.build.split('.')[2]) : NaN;
  const arch = edition?.arch;
  return {
    editionId: typeof edition?.editionId === 'string' ? edition.editionId : null,
    build: Number.isInteger(build) ? build : null,
    arch: arch === 'amd64' || arch === 'x86' || arch === 'arm64' ? arch : null,
  };
}

function machineFacts(machine: Machine): MachineFacts {
  return { name: machine.name, mac: machine.mac, serial: machine.serial, smbiosUuid: machine.smbiosUuid };
}

/** The machine as a deployment names it (name and MAC null when it is not found). */
function machineRef(id: string, machine: Machine | undefined): DeploymentView['machine'] {
  return { id, name: machine?.name ?? null, mac: machine?.mac ?? null };
}

/** A deployment as it is shown, with its machine (`machine`: the one of its machineId, if found). */
function deploymentView(deployment: Deployment, machine: Machine | undefined): DeploymentView {
  const { sealed, ...rest } = deployment;
  return { ...rest, machine: machineRef(deployment.machineId, machine) };
}

/** The store's filter for a listing's: the machine found by its key, and whether under way. */
function storeFilter(filter: { readonly active?: boolean }, machine: Machine | undefined): DeploymentFilter {
  return {
    ...(machine === undefined ? {} : { machineId: machine.id }),
    ...(filter.active === undefined ? {} : { active: filter.active }),
  };
}

export class DeploymentService {
  readonly #store: DeploymentStore;
  readonly #machines: MachineStore;
  readonly #repo: LocalRepository;
  readonly #box: SecretBox;
  readonly #audit: AuditLog;
  readonly #events: EventHub;
  readonly #settings: DeploymentSettings;
  readonly #share: string;
  readonly #chunkSizesOf = new Map<string, ReadonlyMap<string, number>>();
  /** Chunks being sent to agents: each send holds its read buffers until the agent has taken it. */
  readonly #chunkSends = new ConcurrencyLimit(CHUNK_SENDS_AT_ONCE);
  readonly #multicast: MulticastService;

  constructor(parts: {
    readonly store: DeploymentStore;
    readonly machines: MachineStore;
    readonly repo: LocalRepository;
    readonly box: SecretBox;
    readonly audit: AuditLog;
    readonly events: EventHub;
    readonly settings: DeploymentSettings;
    /** The deployment share: the folder whose files profiles' steps name. */
    readonly share: string;
    readonly multicastStore: MulticastStore;
  }) {
    this.#store = parts.store;
    this.#machines = parts.machines;
    this.#repo = parts.repo;
    this.#box = parts.box;
    this.#audit = parts.audit;
    this.#events = parts.events;
    this.#settings = parts.settings;
    this.#share = parts.share;
    this.#multicast = new MulticastService({
      store: parts.multicastStore,
      repo: parts.repo,
      settings: parts.settings.multicast ?? {
        ...DEFAULT_MULTICAST,
        workDir: join(tmpdir(), 'winsmith-multicast'),
      },
      // A deployment removed since counts as ended: it keeps no sender going.
      underWay: async (id) => {
        const d = await this.#store.getDeployment(id);
        return d !== undefined && !isEnded(d.state);
      },
      // A session's progress changes every deployment of it at once: read and shown together.
      changed: async (ids) => {
        await this.#publishAll(await this.#store.getDeployments(ids));
      },
    });
  }

  /** Stops the multicast senders this process runs. */
  close(): Promise<void> {
    return this.#multicast.close();
  }

  // ---- profiles --------------------------------------------------------------------------

  /**
   * Checks a profile's YAML, and the files of the deployment share its steps name, and stores it
   * (sealed: it may hold passwords). A password written as the mask the profile is shown with
   * keeps the one stored at that place (keepProfileSecrets): the text checked first is the one
   * given, so errors point at its own lines and never quote a stored password. With `name`, the
   * YAML must name that profile (an edit of it).
   */
  async applyProfile(actor: Actor, text: string, file: string, name?: string): Promise<ProfileView> {
    const given = parseProfile(text, file);
    if (name !== undefined && given.name !== name) {
      throw new AppError(
        'INVALID_ARGUMENT',
        `${file}: the YAML names profile ${given.name}, and the profile edited is ${name}`,
        { hint: `keep name: ${name} (a profile of another name is added, not edited)` },
      );
    }
    const previous = await this.#store.getProfile(given.name);
    const kept = keepProfileSecrets(
      text,
      previous === undefined ? null : this.#box.open(previous.sealed, PROFILE_AAD(given.name)),
      file,
    );
    const profile = kept === text ? given : parseProfile(kept, file);
    await listShareFiles(this.#share, profile.customize);
    const summary: ProfileSummary = {
      image: 'digest' in profile.image ? `sha256:${profile.image.digest}` : formatImageRef(profile.image.ref),
      edition: profile.edition,
      firmware: profile.firmware,
      finish: profile.finish,
      computerName: profile.computerName,
      adminPassword:
        profile.adminPassword === null ? null : profile.adminPassword === 'generate' ? 'generate' : 'given',
      customize: profile.customize.map((step) => step.kind),
    };
    const stored = await this.#store.putProfile(
      {
        name: profile.name,
        sealed: this.#box.seal(kept, PROFILE_AAD(profile.name)),
        summary: { ...summary },
      },
      actor.user,
    );
    await recorderFor(this.#audit, actor)('profile.apply', profile.name, { ...summary });
    return profileView(stored);
  }

  async listProfiles(): Promise<ProfileView[]> {
    return (await this.#store.listProfiles()).map(profileView);
  }

  /** A profile as stored, with its passwords masked. */
  async showProfile(name: string): Promise<ProfileView & { readonly yaml: string }> {
    const stored = await this.#requireProfile(name);
    const yaml = redactProfile(this.#box.open(stored.sealed, PROFILE_AAD(name)));
    return { ...profileView(stored), yaml };
  }

  async removeProfile(actor: Actor, name: string): Promise<void> {
    if (!(await this.#store.deleteProfile(name))) throw this.#noProfile(name);
    await recorderFor(this.#audit, actor)('profile.remove', name);
  }

  async #requireProfile(name: string) {
    const stored = await this.#store.getProfile(name);
    if (stored === undefined) throw this.#noProfile(name);
    return stored;
  }

  #noProfile(name: string): AppError {
    return new AppError('NOT_FOUND', `no profile ${JSON.stringify(name.slice(0, 80))}`, {
      hint: "list profiles with 'winsmith profiles'; add one with 'winsmith profile apply FILE.yaml'",
    });
  }

  async #profileText(name: string): Promise<string> {
    const stored = await this.#requireProfile(name);
    return this.#box.open(stored.sealed, PROFILE_AAD(name));
  }

  async #profile(name: string): Promise<DeploymentProfile> {
    return parseProfile(await this.#profileText(name), `profile ${name}`);
  }

  // ---- machines ----------------------------------------------------------------------------

  async #machine(key: string): Promise<Machine> {
    const machine = await this.#machines.findMachine(key);
    if (machine === undefined) {
      throw new AppError('NOT_FOUND', `no machine ${JSON.stringify(key.slice(0, 80))}`, {
        hint: "list machines with 'winsmith machines'",
      });
    }
    return machine;
  }

  /** Approves a machine that registered itself by booting. */
  async approve(actor: Actor, key: string): Promise<Machine> {
    const machine = await this.#machines.approveMachine((await this.#machine(key)).id);
    await recorderFor(this.#audit, actor)('machine.approve', machine.id, {
      name: machine.name,
      mac: machine.mac,
    });
    return machine;
  }

  /** The administrator password of the machine's last deployment that set one (audited). */
  async machinePassword(
    actor: Actor,
    key: string,
  ): Promise<{ machine: string; deployment: string; password: string }> {
    const machine = await this.#machine(key);
    for (const deployment of await this.#store.listDeployments({ machineId: machine.id })) {
      const { adminPassword } = this.#secrets(deployment);
      if (adminPassword !== null) {
        await recorderFor(this.#audit, actor)('machine.password.read', machine.id, {
          deployment: deployment.id,
        });
        return { machine: machine.id, deployment: deployment.id, password: adminPassword };
      }
    }
    throw new AppError('NOT_FOUND', `no deployment of machine ${key} set an administrator password`, {
      hint: 'the profile sets one with adminPassword: generate (or a password)',
    });
  }

  #secrets(deployment: Deployment): DeploymentSecrets {
    return JSON.parse(this.#box.open(deployment.sealed, SECRETS_AAD(deployment.id))) as DeploymentSecrets;
  }

  // ---- deployments -------------------------------------------------------------------------

  async #image(profile: DeploymentProfile, override: string | undefined): Promise<ImageRecord> {
    if (override !== undefined) return this.#repo.getImage(parseImageRef(override));
    return 'digest' in profile.image
      ? this.#repo.imageOfDigest(profile.image.digest)
      : this.#repo.getImage(profile.image.ref);
  }

  /** The name of the image a deployment request would deploy, for the caller's scope check. */
  async imageNameFor(request: Pick<DeploymentRequest, 'profile' | 'image'>): Promise<string> {
    if (request.image !== undefined) return parseImageRef(request.image).name;
    const profile = await this.#profile(request.profile);
    return 'digest' in profile.image
      ? (await this.#repo.imageOfDigest(profile.image.digest)).name
      : profile.image.ref.name;
  }

  /** The name of the image a deployment deploys, for the caller's scope check. */
  async imageNameOf(id: string): Promise<string> {
    return (await this.#store.requireDeployment(id)).image.name;
  }

  /** A new capture of the machine's Windows into `request.tag`, queued until the machine boots. */
  async capture(actor: Actor, request: CaptureRequest): Promise<DeploymentView> {
    const machine = await this.#readyMachine(request.machine);
    const ref = parseImageRef(request.tag);
    if (
      request.partition !== undefined &&
      !(Number.isInteger(request.partition) && request.partition >= 1 && request.partition <= 128)
    ) {
      throw new AppError(
        'INVALID_ARGUMENT',
        `partition ${String(request.partition)} is not a partition number from 1 to 128`,
        {
          hint: 'name the partition as lsblk or sgdisk -p numbers it, or leave it out',
        },
      );
    }
    const id = randomUUID();
    const secrets: DeploymentSecrets = { adminPassword: null, unattend: '', profile: '' };
    const deployment = await this.#store.createDeployment({
      id,
      machineId: machine.id,
      profile: '',
      image: { name: ref.name, tag: ref.tag, digest: '', size: 0, edition: 1 },
      sealed: this.#box.seal(JSON.stringify(secrets), SECRETS_AAD(id)),
      createdBy: actor.user,
      capture: { partition: request.partition ?? null },
    });
    await recorderFor(this.#audit, actor)('capture.create', deployment.id, {
      machine: machine.id,
      image: formatImageRef(ref),
      partition: request.partition ?? null,
    });
    return this.#publish(deployment);
  }

  async #readyMachine(key: string): Promise<Machine> {
    const machine = await this.#machine(key);
    if (machine.state !== 'ready') {
      throw new AppError(
        'CONFLICT',
        `machine ${key} is ${machine.state}: a machine is deployed or captured only once approved`,
        {
          hint: `approve it first: 'winsmith machine approve ${key}'`,
        },
      );
    }
    return machine;
  }

  /** A new deployment of `request.profile` on the machine, queued until it boots. */
  async create(actor: Actor, request: DeploymentRequest): Promise<DeploymentView> {
    return this.#createOn(actor, request.machine, await this.#deploying(request));
  }

  /** The profile a request names, read once, and the image it deploys (the request's, or the profile's). */
  async #deploying(
    request: Pick<DeploymentRequest, 'profile' | 'image'>,
  ): Promise<{ text: string; profile: DeploymentProfile; image: ImageRecord }> {
    const text = await this.#profileText(request.profile);
    const profile = parseProfile(text, `profile ${request.profile}`);
    const image = await this.#image(profile, request.image);
    if (image.editions.length > 0 && profile.edition > image.editions.length) {
      throw new AppError(
        'INVALID_ARGUMENT',
        `${formatImageRef(image)} has ${image.editions.length} edition(s), the profile asks for ${profile.edition}`,
        {
          hint: "see 'winsmith image info' for the image's editions",
        },
      );
    }
    return { text, profile, image };
  }

  /** A new deployment on machine `key` of a profile and image already read. */
  async #createOn(
    actor: Actor,
    key: string,
    deploying: { text: string; profile: DeploymentProfile; image: ImageRecord },
  ): Promise<DeploymentView> {
    const { text: profileText, profile, image } = deploying;
    const machine = await this.#machine(key);
    if (machine.state !== 'ready') {
      throw new AppError(
        'CONFLICT',
        `machine ${key} is ${machine.state}: a machine is deployed only once approved`,
        {
          hint: `approve it first: 'winsmith machine approve ${key}'`,
        },
      );
    }
    const adminPassword =
      profile.adminPassword === null
        ? null
        : profile.adminPassword === 'generate'
          ? generateAdminPassword()
          : profile.adminPassword.value;
    const settings = machineUnattendProfile(
      profile,
      machineFacts(machine),
      editionFacts(image, profile.edition),
      adminPassword,
    );
    const { xml } = renderProfile(settings, undefined, `the answer file of profile ${profile.name}`);
    const id = randomUUID();
    const secrets: DeploymentSecrets = { adminPassword, unattend: xml, profile: profileText };
    const deployment = await this.#store.createDeployment({
      id,
      machineId: machine.id,
      profile: profile.name,
      image: {
        name: image.name,
        tag: image.tag,
        digest: image.digest,
        size: image.size,
        edition: profile.edition,
      },
      sealed: this.#box.seal(JSON.stringify(secrets), SECRETS_AAD(id)),
      createdBy: actor.user,
    });
    await recorderFor(this.#audit, actor)('deployment.create', deployment.id, {
      machine: machine.id,
      profile: profile.name,
      image: formatImageRef(image),
      digest: image.digest,
    });
    return this.#publish(deployment);
  }

  /**
   * Deployments of `request.profile` to each machine, queued until each boots, and the multicast
   * session that sends them their image; none is made when one cannot be.
   */
  async createMulticast(actor: Actor, request: MulticastRequest): Promise<DeploymentView[]> {
    if (!GROUP_NAME.test(request.group)) {
      throw new AppError(
        'INVALID_ARGUMENT',
        `multicast group ${JSON.stringify(request.group.slice(0, 80))} is not a name of ${GROUP_NAME.source}`,
        {
          hint: 'name the session with letters, digits, dots, hyphens and underscores, e.g. rack-12',
        },
      );
    }
    const machines = [...new Set(request.machines)];
    if (machines.length === 0 || machines.length > MAX_MULTICAST_MACHINES) {
      throw new AppError(
        'INVALID_ARGUMENT',
        `a multicast session takes 1 to ${MAX_MULTICAST_MACHINES} machines, found ${machines.length}`,
        {
          hint: 'name the machines after the group: winsmith deploy --multicast GROUP MACHINE...',
        },
      );
    }
    if (request.minReceivers !== undefined && request.minReceivers > machines.length) {
      throw new AppError(
        'INVALID_ARGUMENT',
        `the session is to start when ${request.minReceivers} machines joined; it has ${machines.length}`,
        { hint: 'give --min-receivers at most the number of machines named' },
      );
    }
    if ((await this.#multicast.activeNames()).includes(request.group)) {
      throw new AppError('CONFLICT', `multicast session ${request.group} is under way`, {
        hint: 'name the new session otherwise, or wait for that one to end',
      });
    }
    await this.#multicast.place(request);
    // The profile and its image read once: every deployment of the session gets the one image it
    // sends, even if the tag moves meanwhile.
    const deploying = await this.#deploying(request);
    const views: DeploymentView[] = [];
    let session;
    try {
      for (const machine of machines) views.push(await this.#createOn(actor, machine, deploying));
      const first = views[0];
      if (first === undefined) return views;
      // Made here, in the try: a session that cannot be made (its address or slot taken since
      // place() looked) leaves none of its deployments queued.
      session = await this.#multicast.createSession(
        request.group,
        { digest: first.image.digest, edition: first.image.edition },
        views.map((v) => v.id),
        request,
        actor.user,
      );
    } catch (e) {
      for (const view of views) await this.cancel(actor, view.id).catch(() => undefined);
      throw e;
    }
    await recorderFor(this.#audit, actor)('multicast.create', session.id, {
      group: session.name,
      address: session.address,
      deployments: views.map((v) => v.id),
    });
    return this.#publishAll(await this.#store.getDeployments(views.map((v) => v.id)));
  }

  /** The deployments, newest first; only those whose image `visible` takes. */
  async list(
    filter: { readonly machine?: string; readonly active?: boolean } = {},
    visible: ImageVisibility = everyImage,
  ): Promise<DeploymentView[]> {
    const machine = filter.machine === undefined ? undefined : await this.#machine(filter.machine);
    const deployments = (await this.#store.listDeployments(storeFilter(filter, machine))).filter((d) =>
      visible(d.image.name),
    );
    return this.#views(deployments, machine);
  }

  /**
   * One page of the deployments, newest first, whose image is within `scopes` (null: any), after the
   * page `page.cursor` ended (null: the first).
   */
  async listPage(
    filter: { readonly machine?: string; readonly active?: boolean },
    scopes: readonly string[] | null,
    page: { readonly limit: number; readonly cursor: string | null },
  ): Promise<{ deployments: DeploymentView[]; next: string | null }> {
    const machine = filter.machine === undefined ? undefined : await this.#machine(filter.machine);
    const { deployments, next } = await this.#store.listDeploymentPage({
      ...storeFilter(filter, machine),
      scopes,
      ...page,
    });
    return { deployments: await this.#views(deployments, machine), next };
  }

  /** The views of `deployments`, of `machine`'s or of any machine. */
  async #views(deployments: readonly Deployment[], machine: Machine | undefined): Promise<DeploymentView[]> {
    // The machines shown, read in one query rather than one per deployment (nor every machine).
    const byId =
      machine !== undefined
        ? new Map([[machine.id, machine]])
        : await this.#machines.getMachines(deployments.map((d) => d.machineId));
    return this.#withMulticast(deployments.map((d) => deploymentView(d, byId.get(d.machineId))));
  }

  /** The views, each with its multicast session's part when it is in one. */
  async #withMulticast(views: DeploymentView[]): Promise<DeploymentView[]> {
    const parts = await this.#multicast.viewsOf(views.map((v) => v.id));
    return views.map((v) => {
      const multicast = parts.get(v.id);
      return multicast === undefined ? v : { ...v, multicast };
    });
  }

  async show(id: string, visible: ImageVisibility = everyImage): Promise<DeploymentView> {
    return this.#view(await this.#visibleDeployment(id, visible));
  }

  async logs(
    id: string,
    after = 0,
    visible: ImageVisibility = everyImage,
  ): Promise<{ id: number; at: string; line: string }[]> {
    await this.#visibleDeployment(id, visible);
    return this.#store.logLines(id, after);
  }

  /** Deployment `id`, as unknown when `visible` does not take its image: its existence is not told. */
  async #visibleDeployment(id: string, visible: ImageVisibility): Promise<Deployment> {
    const deployment = await this.#store.requireDeployment(id);
    if (!visible(deployment.image.name)) throw noDeployment(id);
    return deployment;
  }

  /** The deployment under way of each machine that has one, by machine id. */
  async activeByMachine(): Promise<Map<string, { id: string; state: DeploymentState }>> {
    const active = await this.#store.listDeployments({ active: true });
    return new Map(active.map((d) => [d.machineId, { id: d.id, state: d.state }]));
  }

  async cancel(actor: Actor, id: string): Promise<DeploymentView> {
    const current = await this.#store.requireDeployment(id);
    if (isEnded(current.state)) {
      throw new AppError('CONFLICT', `deployment ${id} is already ${current.state}`, {
        hint: 'nothing to cancel',
      });
    }
    const deployment = await this.#store.transition(id, [current.state], 'cancelled');
    await this.#multicast.deploymentEnded(id, 'cancelled');
    await recorderFor(this.#audit, actor)('deployment.cancel', id, { was: current.state });
    return this.#publish(deployment);
  }

  /** A new deployment like an ended one that failed or was cancelled (same machine, profile, image). */
  async retry(actor: Actor, id: string): Promise<DeploymentView> {
    const old = await this.#store.requireDeployment(id);
    if (old.state !== 'failed' && old.state !== 'cancelled') {
      throw new AppError(
        'CONFLICT',
        `deployment ${id} is ${old.state}: only a failed or cancelled one is retried`,
        {
          hint: 'cancel it first if it is stuck',
        },
      );
    }
    const image = formatImageRef({ name: old.image.name, tag: old.image.tag });
    const view =
      old.kind === 'capture'
        ? await this.capture(actor, {
            machine: old.machineId,
            tag: image,
            ...(old.capturePartition === null ? {} : { partition: old.capturePartition }),
          })
        : await this.create(actor, { machine: old.machineId, profile: old.profile, image });
    await recorderFor(this.#audit, actor)('deployment.retry', view.id, { retries: id });
    return view;
  }

  // ---- boot --------------------------------------------------------------------------------

  /**
   * The boot script's one start of the deploy environment for the machine's queued deployment:
   * it moves to `booting` and a new token is made for its agent (only its hash is kept). Null when
   * the machine has no queued deployment (an active one past `queued` is not started again).
   */
  async startForBoot(
    machineId: string,
  ): Promise<{ readonly deployment: string; readonly token: string } | null> {
    const active = await this.#store.activeFor(machineId);
    if (active?.state !== 'queued') return null;
    const token = `wsa_${randomBytes(32).toString('base64url')}`;
    const deployment = await this.#store.transition(active.id, ['queued'], 'booting', {
      token_hash: hashAgentToken(token),
    });
    await this.#publish(deployment);
    return { deployment: deployment.id, token };
  }

  /** The machine's deployment under way, if it has one. */
  async activeFor(machineId: string): Promise<{ id: string; state: DeploymentState } | null> {
    const active = await this.#store.activeFor(machineId);
    return active === undefined ? null : { id: active.id, state: active.state };
  }

  /** The UEFI chain the profile of the machine's deployment under way asks for (as it was made); null: none under way. */
  async uefiChainOf(machineId: string): Promise<UefiChainSetting | null> {
    const active = await this.#store.activeFor(machineId);
    return active === undefined ? null : this.#deploymentProfile(active).uefiChain;
  }

  // ---- the agent -----------------------------------------------------------------------------

  /** What the agent holding `token` may do, calling from `client`; UNAUTHORIZED for no deployment under way. */
  async agent(token: string, client: string): Promise<AgentSession> {
    const deployment = await this.#agentDeployment(token);
    const deploying = (): Deployment => this.#ofKind(deployment, 'deploy');
    const capturing = (): Deployment => this.#ofKind(deployment, 'capture');
    return {
      deployment: deployment.id,
      task: () => (deployment.kind === 'capture' ? this.#captureTask(deployment) : this.#task(deployment)),
      report: (report) => this.#report(deployment, report, client),
      manifest: async () => this.#repo.manifestOf(deploying().image.digest),
      chunk: async (digest) => this.#chunk(deploying(), digest),
      unattend: async () => this.#unattend(deploying(), client),
      shareFiles: async () => listShareFiles(this.#share, this.#deploymentProfile(deploying()).customize),
      shareFile: async (path) =>
        openShareFile(this.#share, this.#deploymentProfile(deploying()).customize, path),
      captureMissing: async (digests) =>
        this.#repo.streamChunksMissing(
          capturePusher(capturing()),
          await this.#captureUpload(capturing()),
          digests,
        ),
      captureChunk: async (digest, bytes) =>
        this.#repo.putStreamChunk(await this.#captureUpload(capturing()), digest, bytes),
      captureCommit: async (manifest) => this.#captureCommit(capturing(), manifest, client),
      multicast: () => this.#multicast.join(deploying().id),
    };
  }

  /** `deployment`, when it is of `kind`; FORBIDDEN otherwise (a capture's token fetches no image). */
  #ofKind(deployment: Deployment, kind: Deployment['kind']): Deployment {
    if (deployment.kind !== kind) {
      throw new AppError('FORBIDDEN', `deployment ${deployment.id} is a ${deployment.kind}, not a ${kind}`, {
        hint: `the agent of a ${deployment.kind} may only call its ${deployment.kind}'s routes`,
      });
    }
    return deployment;
  }

  /** The streamed upload of a capture, opened at its first call. */
  async #captureUpload(deployment: Deployment): Promise<string> {
    const current = await this.#store.requireDeployment(deployment.id);
    if (current.uploadId !== null) return current.uploadId;
    const id = await this.#repo.beginStreamUpload(capturePusher(deployment), {
      name: deployment.image.name,
      tag: deployment.image.tag,
    });
    return this.#store.setUpload(deployment.id, id);
  }

  async #captureTask(deployment: Deployment): Promise<CaptureTask> {
    const machine = await this.#machines.getMachine(deployment.machineId);
    return {
      kind: 'capture',
      deployment: deployment.id,
      machine: machineRef(deployment.machineId, machine),
      target: { name: deployment.image.name, tag: deployment.image.tag },
      partition: deployment.capturePartition,
      chunking: { ...this.#repo.chunking },
      finish: 'reboot',
      heartbeatSeconds: this.#settings.heartbeatSeconds,
    };
  }

  /**
   * The capture's commit: the manifest checked, every chunk and the whole content verified, the
   * editions read from the WIM itself (a pipable WIM too), the lineage taken from the machine's
   * record here, never from the agent. A commit tried again after it went through answers the same.
   */
  async #captureCommit(deployment: Deployment, given: unknown, client: string): Promise<CaptureResult> {
    const current = await this.#store.requireDeployment(deployment.id);
    const ref = { name: current.image.name, tag: current.image.tag };
    if (current.image.digest !== '')
      return { ...ref, digest: current.image.digest, size: current.image.size };
    const manifest = validateManifest(given);
    if (manifest.mediaType !== MEDIA_TYPES.wim) {
      throw new AppError(
        'INVALID_ARGUMENT',
        `a capture's manifest has the media type ${JSON.stringify(manifest.mediaType.slice(0, 80))}, not ${MEDIA_TYPES.wim}`,
        { hint: 'the agent sends what wimcapture wrote, as a WIM' },
      );
    }
    const machine = await this.#machines.getMachine(current.machineId);
    const lineage: CaptureLineage = {
      machine: machine?.name ?? current.machineId,
      machineId: current.machineId,
      mac: machine?.mac ?? null,
      uuid: machine?.smbiosUuid ?? null,
      manufacturer: machine?.manufacturer ?? null,
      model: machine?.product ?? null,
      serial: machine?.serial ?? null,
      capturedAt: new Date().toISOString(),
      deployment: current.id,
    };
    const image = await this.#repo.commitStreamUpload(
      current.createdBy ?? `agent:${current.id}`,
      await this.#captureUpload(current),
      manifest,
      (content) => capturedMeta(content, lineage),
    );
    await this.#store.setCapturedImage(current.id, image.digest, image.size);
    await recorderFor(this.#audit, { user: `agent:${current.id}`, client })('capture.commit', current.id, {
      image: formatImageRef(ref),
      digest: image.digest,
    });
    await this.#publish(await this.#store.requireDeployment(current.id));
    return { ...ref, digest: image.digest, size: image.size };
  }

  /** The profile as it was when the deployment was made. */
  #deploymentProfile(deployment: Deployment): DeploymentProfile {
    return parseProfile(this.#secrets(deployment).profile, `profile ${deployment.profile}`);
  }

  async #agentDeployment(token: string): Promise<Deployment> {
    const deployment = /^wsa_[A-Za-z0-9_-]{43}$/.test(token)
      ? await this.#store.findByTokenHash(hashAgentToken(token))
      : undefined;
    if (deployment === undefined) {
      throw new AppError('UNAUTHORIZED', 'the agent token opens no deployment under way', {
        hint: 'the deployment ended or was cancelled; start it again from the server',
      });
    }
    return deployment;
  }

  async #task(deployment: Deployment): Promise<AgentTask> {
    const machine = await this.#machines.getMachine(deployment.machineId);
    const text = this.#secrets(deployment).profile;
    const profile = parseProfile(text, `profile ${deployment.profile}`);
    const firmware =
      profile.firmware === 'auto' ? (machine?.platform === 'efi' ? 'uefi' : 'bios') : profile.firmware;
    const layout = profile.layout ?? DEFAULT_LAYOUTS[firmware];
    const image = await this.#repo
      .getImage({ name: deployment.image.name, tag: deployment.image.tag })
      .catch(() => null);
    return {
      deployment: deployment.id,
      machine: machineRef(deployment.machineId, machine),
      firmware,
      layout: { firmware: layout.firmware, partitions: layout.partitions.map((p) => ({ ...p })) },
      disk: profile.disk,
      image: {
        name: deployment.image.name,
        tag: deployment.image.tag,
        digest: deployment.image.digest,
        size: deployment.image.size,
        sha256: image?.digest === deployment.image.digest ? image.sha256 : '',
        index: deployment.image.edition,
      },
      finish: profile.finish,
      customize:
        profile.customize.length === 0
          ? null
          : { source: `profile ${deployment.profile}`, yaml: profileStepsText(text) },
      heartbeatSeconds: this.#settings.heartbeatSeconds,
    };
  }

  /** The machine's Secure Boot state as its agent read it (the UEFI variable), kept on the machine. */
  async #recordSecureBoot(machineId: string, on: boolean): Promise<void> {
    const mac = (await this.#machines.getMachine(machineId))?.mac ?? null;
    if (mac === null) return;
    const state: SecureBootState = { on, source: 'agent', at: new Date().toISOString() };
    await this.#machines.updateMachineSeen({ mac, inventory: { [SECURE_BOOT_KEY]: state } });
  }

  /** An agent's report: its state (forward only), progress, disk, inventory, error and log lines. */
  async #report(deployment: Deployment, report: AgentReport, client: string): Promise<void> {
    if (report.multicast !== undefined) await this.#multicast.report(deployment.id, report.multicast);
    let current = await this.#store.recordReport(deployment.id, {
      ...(report.progress === undefined ? {} : { progress: report.progress }),
      ...(report.disk === undefined ? {} : { disk: report.disk }),
      ...(report.inventory === undefined ? {} : { inventory: report.inventory }),
      ...(report.error === undefined ? {} : { error: report.error }),
      ...(report.log === undefined ? {} : { lines: report.log }),
    });
    const secureBoot = report.inventory?.secureBoot;
    if (typeof secureBoot === 'boolean') await this.#recordSecureBoot(deployment.machineId, secureBoot);
    const state = report.state;
    const order = deployment.kind === 'capture' ? CAPTURE_ORDER : AGENT_ORDER;
    if (state !== undefined && state !== current.state) {
      const index = order.indexOf(state);
      if (index < 0) {
        throw new AppError('CONFLICT', `a ${deployment.kind} has no state ${state}`, {
          hint: `report the states of a ${deployment.kind}`,
        });
      }
      const from = order.slice(0, index);
      if (state !== 'failed' && !from.includes(current.state)) {
        throw new AppError(
          'CONFLICT',
          `deployment ${deployment.id} is ${current.state}: it cannot go to ${state}`,
          {
            hint: 'report the states in order',
          },
        );
      }
      current = await this.#store.transition(
        deployment.id,
        state === 'failed' ? order : from,
        state,
        state === 'failed' && report.error === undefined
          ? { error_message: 'the agent failed', error_step: current.state }
          : {},
      );
      await recorderFor(this.#audit, { user: `agent:${deployment.id}`, client })(
        `deployment.${state}`,
        deployment.id,
        {},
      );
      if (state === 'failed') await this.#multicast.deploymentEnded(deployment.id, state);
    }
    await this.#publish(current);
  }

  /**
   * The chunk sizes of an image by chunk digest, read from its manifest once: an agent asks for
   * every chunk of it, and many agents for the same image. The few last read are kept (manifests
   * never change: they are named by their digest).
   */
  async #chunkSizes(imageDigest: string): Promise<ReadonlyMap<string, number>> {
    const known = this.#chunkSizesOf.get(imageDigest);
    if (known !== undefined) {
      this.#chunkSizesOf.delete(imageDigest);
      this.#chunkSizesOf.set(imageDigest, known);
      return known;
    }
    const manifest = await this.#repo.manifestOf(imageDigest);
    const sizes = new Map(manifest.chunks.map((c) => [c.digest, c.size]));
    this.#chunkSizesOf.set(imageDigest, sizes);
    for (const oldest of this.#chunkSizesOf.keys()) {
      if (this.#chunkSizesOf.size <= CHUNK_INDEXES_KEPT) break;
      this.#chunkSizesOf.delete(oldest);
    }
    return sizes;
  }

  /** One chunk of the deployment's image (NOT_FOUND for any other chunk). */
  async #chunk(deployment: Deployment, digest: string): Promise<Content> {
    const size = (await this.#chunkSizes(deployment.image.digest)).get(digest);
    if (size === undefined) {
      throw new AppError(
        'NOT_FOUND',
        `chunk ${JSON.stringify(digest.slice(0, 80))} is not in this deployment's image`,
        {
          hint: 'ask for the chunks the manifest lists',
        },
      );
    }
    const content = this.#repo.chunkContent(digest, size);
    const sends = this.#chunkSends;
    return {
      size,
      get stream() {
        return content.stream;
      },
      // An agent that stops taking the bytes (a machine gone, a link cut) gives its turn back.
      writeTo: (out) =>
        sends.run(async () => {
          const timer = setTimeout(
            () => out.destroy(new Error('the agent took no chunk bytes in time')),
            CHUNK_SEND_TIMEOUT_MS,
          );
          try {
            await content.writeTo(out);
          } finally {
            clearTimeout(timer);
          }
        }),
    };
  }

  /** The machine's answer file, once; a second fetch is refused and audited. */
  async #unattend(deployment: Deployment, client: string): Promise<string> {
    const record = recorderFor(this.#audit, { user: `agent:${deployment.id}`, client });
    if (!(await this.#store.takeUnattend(deployment.id))) {
      await record('deployment.unattend.refused', deployment.id, {});
      throw new AppError('CONFLICT', `the answer file of deployment ${deployment.id} was already fetched`, {
        hint: 'it is served once; retry the deployment for a new one',
      });
    }
    await record('deployment.unattend', deployment.id, {});
    return this.#secrets(deployment).unattend;
  }

  /** How many deployments are in each state. */
  countByState(): Promise<Record<DeploymentState, number>> {
    return this.#store.countByState();
  }

  /**
   * Fails the deployments whose agent has been silent past its timeout: since its last report
   * ("agent lost"), or, before its first one, since its machine booted the deploy environment.
   */
  async sweep(now = Date.now()): Promise<number> {
    const { agentTimeoutSeconds, bootTimeoutSeconds } = this.#settings;
    const cutoff = (seconds: number): string => new Date(now - seconds * 1000).toISOString();
    const silent = await this.#store.silentSince(cutoff(agentTimeoutSeconds), cutoff(bootTimeoutSeconds));
    for (const d of silent) {
      const failed = await this.#store
        .transition(d.id, [d.state], 'failed', {
          error_message:
            d.state === 'booting'
              ? `the agent never reported: no word ${bootTimeoutSeconds} s after the machine booted the deploy environment`
              : `agent lost: no report for ${agentTimeoutSeconds} s`,
          error_step: d.state,
        })
        .catch(() => null);
      if (failed === null) continue;
      await this.#multicast.deploymentEnded(failed.id, 'failed');
      await this.#publish(failed);
    }
    return silent.length;
  }

  // ---- views and events ----------------------------------------------------------------------

  async #view(deployment: Deployment): Promise<DeploymentView> {
    const [view] = await this.#withMulticast([
      deploymentView(deployment, await this.#machines.getMachine(deployment.machineId)),
    ]);
    if (view === undefined) throw noDeployment(deployment.id);
    return view;
  }

  async #publish(deployment: Deployment): Promise<DeploymentView> {
    const view = await this.#view(deployment);
    this.#announce(deployment, view);
    return view;
  }

  /** Publishes several deployments, their machines and multicast parts read in one query each. */
  async #publishAll(deployments: readonly Deployment[]): Promise<DeploymentView[]> {
    if (deployments.length === 0) return [];
    const byId = await this.#machines.getMachines(deployments.map((d) => d.machineId));
    const views = await this.#withMulticast(deployments.map((d) => deploymentView(d, byId.get(d.machineId))));
    deployments.forEach((d, i) => {
      const view = views[i];
      if (view !== undefined) this.#announce(d, view);
    });
    return views;
  }

  #announce(deployment: Deployment, view: DeploymentView): void {
    this.#events.publish({
      job: `deployment-${deployment.id}`,
      audience: { action: 'machines.read', image: deployment.image.name },
      kind: 'deployment',
      result: view,
    });
  }
}

/**
 * Who a capture's agent pushes as: chunks it may reuse are those of images under the capture's
 * own name, which its creator could push to (and so read).
 */
function capturePusher(deployment: Deployment): { user: string; readScopes: readonly string[] } {
  return { user: `agent:${deployment.id}`, readScopes: [deployment.image.name] };
}

/** What the catalog records of a captured WIM: read from its bytes, with the lineage given. */
function capturedMeta(content: ByteSource, lineage: CaptureLineage): Promise<ArtifactMeta> {
  return wimContentMeta(content, { capturedFrom: lineage });
}

/** Images whose chunk index the agents' chunk route keeps. */
const CHUNK_INDEXES_KEPT = 4;
/**
 * Chunks sent to agents at once, whatever their number: a hundred agents each fetching ahead ask
 * for over a thousand, and the others wait their turn, so the server's memory stays flat.
 */
const CHUNK_SENDS_AT_ONCE = 32;
/** The time one chunk send may take: a minute, 70 KB/s for the largest default chunk (4 MiB). */
const CHUNK_SEND_TIMEOUT_MS = 60_000;

/** How often a data directory's deployments are looked at for changes. */
const POLL_MS = 1000;

/** Changes seen by listing every `POLL_MS` (a deployment changed when its updatedAt moved), until `signal` aborts. */
async function pollChanges(
  list: () => Promise<DeploymentView[]>,
  onChange: (deployment: DeploymentView) => void,
  signal: AbortSignal,
): Promise<void> {
  const seen = new Map<string, string>();
  while (!signal.aborted) {
    for (const d of await list()) {
      if (seen.get(d.id) === d.updatedAt) continue;
      seen.set(d.id, d.updatedAt);
      onChange(d);
    }
    await sleep(POLL_MS, undefined, { signal }).catch(() => undefined);
  }
}

/** The profile and deployment operations of `actor` (whose rights the caller has checked). */
export function deploymentsFor(
  service: DeploymentService,
  actor: Actor,
): { profiles: Profiles; deployments: Deployments } {
  return {
    profiles: {
      apply: (text, file) => service.applyProfile(actor, text, file),
      edit: (name, text, file) => service.applyProfile(actor, text, file, name),
      list: () => service.listProfiles(),
      show: (name) => service.showProfile(name),
      remove: (name) => service.removeProfile(actor, name),
    },
    deployments: {
      create: (request) => service.create(actor, request),
      capture: (request) => service.capture(actor, request),
      createMulticast: (request) => service.createMulticast(actor, request),
      list: (filter) => service.list(filter, visibleTo(actor)),
      listPage: ({ limit, cursor, ...filter }) =>
        service.listPage(filter, actor.readScopes ?? null, { limit, cursor }),
      show: (id) => service.show(id, visibleTo(actor)),
      logs: (id, after) => service.logs(id, after, visibleTo(actor)),
      cancel: (id) => service.cancel(actor, id),
      retry: (id) => service.retry(actor, id),
      watch: (onChange, signal, onWatching) => {
        onWatching?.();
        return pollChanges(() => service.list({}, visibleTo(actor)), onChange, signal);
      },
    },
  };
}
