// The bodies of the HTTP API, described once. Each schema validates what a request sends, gives
// the handler its type, and becomes the JSON Schema of the OpenAPI document (z.toJSONSchema), so
// the document cannot drift from the code; a test checks real answers against the served document.
// Deep rules stay with their domain (a manifest's canonical form, image names, roles): the
// schemas say the shape, the handlers call the domain's own checks.

import { z } from 'zod';
import { ERROR_CODES } from '../core/error-codes.ts';
import {
  BUILD_STATES,
  DEPLOYMENT_STATES,
  MACHINE_STATES,
  MAX_MULTICAST_MACHINES,
  MULTICAST_RECEIVER_STATES,
  MULTICAST_SESSION_STATES,
  TOKEN_STATES,
} from '../app/session.ts';

const text = z.string();
const nullableText = z.string().nullable();
const count = z.number().int().nonnegative();
const list = <T extends z.ZodType>(item: T) => z.array(item).readonly();

export const ErrorBody = z.object({
  error: z.object({
    code: z.enum(Object.keys(ERROR_CODES) as [keyof typeof ERROR_CODES, ...(keyof typeof ERROR_CODES)[]]),
    message: text,
    hint: nullableText,
  }),
});

export const ServiceStatus = z.object({
  state: z.enum(['starting', 'waiting', 'running', 'stopped', 'failed']),
  detail: nullableText,
});

export const Health = z.object({
  status: z.literal('ok'),
  version: text,
  /** http, deployment-watch, and tftp and dhcp when network boot is on. */
  services: z.record(z.string(), ServiceStatus),
});

export const LoginRequest = z.object({ user: text, password: text });

export const IssuedToken = z.object({ token: text, expiresAt: nullableText });

export const Chunking = z.object({ minSize: count, avgSize: count, maxSize: count });

export const RepositoryInfo = z.object({
  chunking: Chunking,
  maxChunkBytes: count,
  maxManifestChunks: count,
});

/** A manifest's shape; its canonical rules are validateManifest's (src/store/manifest.ts). */
export const Manifest = z.strictObject({
  schemaVersion: z.number().int(),
  mediaType: text,
  size: count,
  sha256: text,
  chunks: list(z.strictObject({ digest: text, size: count })),
});

export const BeginUpload = z.object({ name: text, tag: text, manifest: Manifest });

export const UploadSession = z.object({ id: text, missing: list(text) });

export const ArtifactMetaRequest = z.object({
  mediaType: text.optional(),
  editions: z.array(z.unknown()).optional(),
  parentDigest: nullableText.optional(),
  recipe: z.unknown().optional(),
  sourceIsoSha256: nullableText.optional(),
});

export const CommitUpload = z.object({ meta: ArtifactMetaRequest.optional() });

const imageFields = {
  name: text,
  tag: text,
  digest: text,
  mediaType: text,
  size: count,
  sha256: text,
  editions: list(z.unknown()),
  pushedBy: nullableText,
  pushedAt: text,
  parentDigest: nullableText,
  sourceIsoSha256: nullableText,
};

export const ImageRecord = z.object({ ...imageFields, recipe: z.unknown() });

export const ImageSummary = z.object({ ...imageFields, capturedFrom: nullableText });

export const ImagePage = z.object({ images: list(ImageSummary), next: nullableText });

/** The query of a listing given a page at a time: how many at most, after which page. */
const pageQuery = {
  limit: z.string().regex(/^\d+$/, 'expected a whole number').optional(),
  cursor: text.optional(),
};

export const ImagePageQuery = z.object(pageQuery);

const wholeNumberText = z
  .string()
  .regex(/^\d{1,15}$/, 'expected a whole number')
  .optional();

export const ImageFilesQuery = z.object({
  /** The edition (1 when absent). */
  index: wholeNumberText,
  /** The folder, from the image's root ('/' when absent). */
  path: text.optional(),
  offset: wholeNumberText,
  limit: wholeNumberText,
});

export const ImageDirectory = z.object({
  name: text,
  tag: text,
  digest: text,
  index: count,
  path: text,
  entries: list(z.object({ name: text, isDir: z.boolean(), size: count, sha1: nullableText })),
  total: count,
  next: count.nullable(),
});

export const ImageDiffQuery = z.object({
  /** The image compared with, NAME:TAG. */
  to: text,
  index: wholeNumberText,
  toIndex: wholeNumberText,
});

const DiffSide = z.object({ name: text, tag: text, digest: text, index: count });
const change = z.enum(['added', 'removed', 'changed']);

export const ImageDiff = z.object({
  a: DiffSide,
  b: DiffSide,
  counts: z.object({ files: count, registry: count, drivers: count, unattend: count }),
  truncated: z.boolean(),
  files: list(
    z.object({
      path: text,
      change,
      isDir: z.boolean(),
      sizeA: count.optional(),
      sizeB: count.optional(),
      sha1A: nullableText.optional(),
      sha1B: nullableText.optional(),
    }),
  ),
  registry: list(
    z.object({
      hive: text,
      key: text,
      value: text.optional(),
      change,
      a: text.optional(),
      b: text.optional(),
    }),
  ),
  drivers: list(
    z.object({ inf: text, change: z.enum(['added', 'removed']), where: z.enum(['file', 'DriverDatabase']) }),
  ),
  unattend: list(z.object({ setting: text, change, a: text.optional(), b: text.optional() })),
});

export const TagRequest = z.object({ source: z.object({ name: text, tag: text }) });

export const TagHistory = z.object({
  changes: list(
    z.object({
      name: text,
      tag: text,
      digest: nullableText,
      previousDigest: nullableText,
      changedBy: nullableText,
      changedAt: text,
    }),
  ),
});

export const StoreStats = z.object({
  logicalBytes: count,
  storedBytes: count,
  chunks: count,
  artifacts: count,
});

export const CheckReport = z.object({
  ok: z.boolean(),
  chunksChecked: count,
  bytesChecked: count,
  manifestsChecked: count,
  corruptChunks: list(text),
  corruptManifests: list(text),
  missingChunks: list(z.object({ manifest: text, chunk: text })),
  missingManifests: list(text),
  wrongContent: list(z.object({ digest: text, expected: text, found: text })),
});

export const GcReport = z.object({
  removedChunks: count,
  removedBytes: count,
  removedManifests: count,
  keptYoung: count,
  removedTemporaries: count,
  liveChunks: count,
});

export const UserView = z.object({
  name: text,
  role: text,
  scopes: list(text),
  disabled: z.boolean(),
  createdAt: text,
  updatedAt: text,
});

export const UserChangeRequest = z.strictObject({
  role: text.optional(),
  scopes: z.array(text).max(64).optional(),
  disabled: z.boolean().optional(),
});

export const PasswordRequest = z.strictObject({
  password: text.optional(),
  currentPassword: text.optional(),
});

export const PasswordChange = z.object({ name: text, password: text.optional() });

export const UserList = z.object({ users: list(UserView) });

/** The caller: its name, role, the scopes it acts within, and the actions its role allows. */
export const Caller = z.object({
  name: text,
  role: text,
  scopes: list(text),
  actions: list(text),
});

export const NewUserRequest = z.object({
  name: text,
  password: text.optional(),
  role: text,
  scopes: z.array(text).max(64).default([]),
});

export const CreatedUser = z.object({
  name: text,
  role: text,
  scopes: list(text),
  password: text.optional(),
});

export const TokenRequest = z.object({
  name: text.max(100).default('api'),
  user: text.optional(),
  expiresInDays: z.number().positive().nullable().default(null),
  scopes: z.array(text).max(64).optional(),
});

export const TokenView = z.object({
  id: text,
  name: text,
  user: text,
  scopes: list(text),
  createdAt: text,
  expiresAt: nullableText,
  lastUsedAt: nullableText,
  revokedAt: nullableText,
  state: z.enum(TOKEN_STATES),
  kind: z
    .enum(['login', 'api'])
    .describe(
      "'login': a session opened with a password; 'api': a token made on purpose, which makes tokens that expire by its own expiry",
    ),
});

export const TokenList = z.object({ tokens: list(TokenView) });

export const TokenQuery = z.object({
  all: z.enum(['true', 'false']).optional(),
  user: text.optional(),
});

export const AuditEntry = z.object({
  id: count,
  at: text,
  actor: nullableText,
  action: text,
  target: nullableText,
  client: nullableText,
  details: z.record(text, z.unknown()),
});

export const AuditList = z.object({
  entries: list(AuditEntry),
  next: count.nullable().describe('the `before` of the next page; null: this page is the last'),
});

const wholeNumber = z.string().regex(/^\d+$/, 'expected a whole number');
const instant = z.iso.datetime({ offset: true });

export const AuditQuery = z.object({
  limit: wholeNumber.optional().describe('entries in the page (100; at most 1000)'),
  before: wholeNumber.optional().describe('entries older than this id: the `next` of the page before'),
  actor: text.optional().describe('entries of this user'),
  action: text.optional().describe('entries of this action (user.add, token.revoke, …)'),
  target: text.optional().describe('entries about this target (a user, an image, a token owner)'),
  since: instant.optional().describe('entries at or after this time (ISO 8601)'),
  until: instant.optional().describe('entries before this time (ISO 8601)'),
});

export const MachineState = z.enum(MACHINE_STATES);

export const Machine = z.object({
  id: text,
  mac: nullableText,
  smbiosUuid: nullableText,
  name: nullableText,
  labels: list(text),
  serial: nullableText,
  manufacturer: nullableText,
  product: nullableText,
  arch: nullableText,
  platform: nullableText,
  inventory: z.record(text, z.unknown()),
  secureBoot: z
    .object({ on: z.boolean(), source: z.enum(['agent', 'grub']), at: text })
    .nullable()
    .describe('Secure Boot as the machine last reported it (its deploy agent, or GRUB); null: never'),
  firstSeen: text,
  lastSeen: text,
  state: MachineState,
  deployment: z.object({ id: text, state: z.enum(DEPLOYMENT_STATES) }).nullable(),
});

export const MachinePage = z.object({ machines: list(Machine), next: nullableText });

export const MachineQuery = z.object({
  state: MachineState.optional(),
  label: text.optional(),
  ...pageQuery,
});

export const NewMachine = z.object({
  mac: text.optional(),
  smbiosUuid: text.optional(),
  name: text,
  labels: z.array(text).optional(),
});

export const MachineChanges = z.object({
  name: text.optional(),
  labels: z.array(text).optional(),
});

export const MachinePassword = z.object({ machine: text, deployment: text, password: text });

/** A profile's YAML may be up to this long. */
export const MAX_PROFILE_BYTES = 256 * 1024;

export const ApplyProfile = z.object({
  yaml: text.max(MAX_PROFILE_BYTES),
  /** How errors name it: the file it was read from. */
  file: text.max(256).optional(),
});

export const Profile = z.object({
  name: text,
  summary: z.object({
    image: text,
    edition: count,
    firmware: z.enum(['uefi', 'bios', 'auto']),
    finish: z.enum(['reboot', 'poweroff']),
    computerName: nullableText,
    adminPassword: z.enum(['generate', 'given']).nullable(),
    /** The kinds of its customize: steps, in order. */
    customize: list(text).optional(),
  }),
  updatedBy: nullableText,
  updatedAt: text,
});

export const ProfileDetail = Profile.extend({ yaml: text });

export const ProfileList = z.object({ profiles: list(Profile) });

export const DeploymentState = z.enum(DEPLOYMENT_STATES);

export const Deployment = z.object({
  id: text,
  kind: z.enum(['deploy', 'capture']),
  machineId: text,
  machine: z.object({ id: text, name: nullableText, mac: nullableText }),
  profile: text,
  image: z.object({ name: text, tag: text, digest: text, size: count, edition: count }),
  state: DeploymentState,
  history: list(z.object({ state: DeploymentState, at: text })),
  createdBy: nullableText,
  createdAt: text,
  updatedAt: text,
  unattendFetchedAt: nullableText,
  progress: z.object({ done: count, total: count }),
  disk: nullableText,
  inventory: z.unknown(),
  error: z.object({ message: text, step: text }).nullable(),
  lastReportAt: nullableText,
  capturePartition: z.number().int().nullable(),
  uploadId: nullableText,
  multicast: z
    .object({
      group: text,
      session: text,
      state: z.enum(MULTICAST_RECEIVER_STATES),
      reason: nullableText,
      sessionState: z.enum(MULTICAST_SESSION_STATES),
      sessionError: nullableText,
      address: text,
      bytesSent: count,
      bytesTotal: count,
    })
    .optional(),
});

export const DeploymentList = z.object({ deployments: list(Deployment) });

export const DeploymentPage = z.object({ deployments: list(Deployment), next: nullableText });

export const DeploymentQuery = z.object({
  machine: text.optional(),
  active: z.enum(['true', 'false']).optional(),
  ...pageQuery,
});

export const NewDeployment = z.object({ machine: text, profile: text, image: text.optional() });

export const NewCapture = z.object({
  machine: text,
  tag: text,
  partition: z.number().int().min(1).max(128).optional(),
});

export const NewMulticastDeployments = z.object({
  group: text,
  machines: z.array(text).min(1).max(MAX_MULTICAST_MACHINES),
  profile: text,
  image: text.optional(),
  minReceivers: z.number().int().positive().max(MAX_MULTICAST_MACHINES).optional(),
  maxWaitSeconds: z.number().int().positive().max(86_400).optional(),
  maxBitsPerSecond: z.number().int().positive().optional(),
  address: text.optional(),
});

export const LogQuery = z.object({
  after: z
    .string()
    .regex(/^\d{1,15}$/, 'expected a whole number')
    .optional(),
});

export const LogLines = z.object({ lines: list(z.object({ id: count, at: text, line: text })) });

const PhaseState = z.enum(['pending', 'running', 'done', 'failed']);

/** A build's record (src/build/build-record.ts): what it was made from, each phase and step. */
export const BuildRecord = z.object({
  format: z.literal(1),
  id: text,
  createdAt: text,
  winsmithVersion: text,
  recipe: z.object({ file: text, sha256: text, text }),
  source: z.union([
    z.object({ kind: z.literal('iso'), path: text, sha256: text }),
    z.object({ kind: z.literal('image'), ref: text, digest: text }),
  ]),
  edition: z.object({ index: count, editionId: text, build: count }),
  accelerator: z.enum(['kvm', 'tcg']),
  qemuArgs: list(text),
  state: z.enum(['running', 'failed', 'done']),
  phases: z.record(
    z.enum(['install', 'provision', 'generalize']),
    z.object({
      state: PhaseState,
      startedAt: nullableText,
      endedAt: nullableText,
      boots: count,
    }),
  ),
  steps: list(
    z.object({
      index: count,
      kind: text,
      where: text,
      state: PhaseState,
      startedAt: nullableText,
      endedAt: nullableText,
      rounds: count,
      outputSha256: nullableText,
      output: nullableText,
    }),
  ),
  error: nullableText,
  result: z.object({ ref: nullableText, digest: nullableText, disk: nullableText }).nullable(),
});

export const Build = z.object({
  id: text,
  state: z.enum(BUILD_STATES),
  owner: text,
  recipe: z.object({ file: text, sha256: text }),
  output: text,
  createdAt: text,
  startedAt: nullableText,
  endedAt: nullableText,
  error: z.object({ code: text, message: text }).nullable(),
  record: BuildRecord.nullable(),
});

export const BuildList = z.object({ builds: list(Build) });

/** A recipe's YAML (its host paths relative to the server's deployment share) and its name. */
export const NewBuild = z.object({ recipe: text, file: text });

export const SerialQuery = z.object({
  offset: z
    .string()
    .regex(/^\d{1,15}$/, 'expected a whole number')
    .optional(),
});

export const SerialLog = z.object({ offset: count, next: count, text });
