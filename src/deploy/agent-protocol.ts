// What the deploy agent and the server say to each other, described once: the server validates
// what the agent sends with these schemas, the agent what the server answers. The agent holds one
// secret, its deployment's token (on the kernel command line of the deploy environment), and sends
// it as `Authorization: Bearer …` on every call; the token opens its own deployment and nothing else.
//
//   GET  /api/v1/agent/task              → AgentTask: what to write, where, and how to finish
//   POST /api/v1/agent/report            ← AgentReport: state, progress, log lines, inventory, error
//                                          (every report is also a heartbeat)
//   GET  /api/v1/agent/manifest          → the image's manifest (its chunks, in order)
//   GET  /api/v1/agent/chunks/{digest}   → one chunk of that image, whose SHA-256 is its digest
//   GET  /api/v1/agent/unattend          → the machine's unattend.xml, once (a second fetch is
//                                          refused, and audited)
//   GET  /api/v1/agent/files             → ShareFiles: the files of the deployment share the
//                                          profile's steps name (and those in the folders they name)
//   GET  /api/v1/agent/files/{path}      → one of those files (path percent-encoded, one Range)
//   GET  /api/v1/agent/multicast         → MulticastJoin: how to receive the image, asked when the
//                                          agent is about to apply it (multicast, wait, or unicast)
//
// A capture's agent (task kind `capture`) pushes instead, streaming (docs/capture.md): the WIM is
// cut into chunks as wimcapture writes it, so the manifest comes last.
//   POST /api/v1/agent/capture/chunks    ← CaptureChunkQuery → CaptureChunkAnswer: which of these
//                                          chunks the server still needs
//   PUT  /api/v1/agent/capture/chunks/{digest} ← one chunk (its SHA-256 is its digest)
//   POST /api/v1/agent/capture/commit    ← CaptureCommit: the manifest; the image appears whole

import { z } from 'zod';

/** The kernel command line of the deploy environment names the server and the token thus. */
export const AGENT_CMDLINE = {
  server: 'winsmith.server',
  token: 'winsmith.token',
  deployment: 'winsmith.deployment',
} as const;

/** The deploy environment's kernel command line for one deployment. */
export function agentCommandLine(server: string, deployment: string, token: string): string {
  // `quiet`: the kernel prints its whole command line among its boot messages, token included.
  return [
    'console=tty0',
    'console=ttyS0,115200',
    'quiet',
    `${AGENT_CMDLINE.server}=${server}`,
    `${AGENT_CMDLINE.deployment}=${deployment}`,
    `${AGENT_CMDLINE.token}=${token}`,
  ].join(' ');
}

export const AGENT_PATHS = {
  task: '/api/v1/agent/task',
  report: '/api/v1/agent/report',
  manifest: '/api/v1/agent/manifest',
  chunk: '/api/v1/agent/chunks',
  unattend: '/api/v1/agent/unattend',
  files: '/api/v1/agent/files',
  captureChunks: '/api/v1/agent/capture/chunks',
  captureCommit: '/api/v1/agent/capture/commit',
  multicast: '/api/v1/agent/multicast',
} as const;

/** The states of a deployment, in the order a deployment goes through them. */
export const DEPLOYMENT_STATES = [
  'queued',
  'booting',
  'agent-online',
  'partitioning',
  'applying',
  'configuring',
  'finalizing',
  'inspecting',
  'capturing',
  'committing',
  'done',
  'failed',
  'cancelled',
] as const;
export type DeploymentState = (typeof DEPLOYMENT_STATES)[number];

/** The states an agent may report, in this order. */
export const AGENT_STATES = [
  'agent-online',
  'partitioning',
  'applying',
  'configuring',
  'finalizing',
  'done',
  'failed',
] as const satisfies readonly DeploymentState[];

/**
 * The states a capture's agent may report, in this order: inspecting (the Windows partition found
 * and checked), capturing (wimcapture read and chunks pushed), committing (the manifest sent, the
 * server checks the whole and lists the image).
 */
export const CAPTURE_AGENT_STATES = [
  'agent-online',
  'inspecting',
  'capturing',
  'committing',
  'done',
  'failed',
] as const satisfies readonly DeploymentState[];

/**
 * Which disk to write, after Ironic's root-device hints: every field given must match, and exactly
 * one disk must match them all. `size` is a comparison with a size (`>= 100G`, `< 2T`, `120G`: equal
 * to within 1%). With no field: the smallest non-removable disk of at least what the image needs.
 */
export const DiskRule = z.strictObject({
  size: z.string().max(32).optional(),
  model: z.string().max(128).optional(),
  vendor: z.string().max(128).optional(),
  serial: z.string().max(128).optional(),
  wwn: z.string().max(128).optional(),
  byPath: z.string().max(256).optional(),
  rotational: z.boolean().optional(),
  transport: z.enum(['nvme', 'sata', 'sas', 'scsi', 'virtio', 'usb', 'mmc']).optional(),
});
export type DiskRule = z.infer<typeof DiskRule>;

const Partition = z.strictObject({
  role: z.enum(['esp', 'msr', 'system', 'windows', 'recovery']),
  /** Bytes, or 'rest'. */
  size: z.union([z.number().int().positive(), z.literal('rest')]),
  guid: z.string().optional(),
  label: z.string().optional(),
});

export const AgentTask = z.strictObject({
  deployment: z.string(),
  machine: z.strictObject({ id: z.string(), name: z.string().nullable(), mac: z.string().nullable() }),
  firmware: z.enum(['uefi', 'bios']),
  layout: z.strictObject({ firmware: z.enum(['uefi', 'bios']), partitions: z.array(Partition) }),
  disk: DiskRule,
  image: z.strictObject({
    name: z.string(),
    tag: z.string(),
    digest: z.string(),
    size: z.number().int().nonnegative(),
    sha256: z.string(),
    /** The edition (1-based image index of the WIM) to apply. */
    index: z.number().int().positive(),
  }),
  finish: z.enum(['reboot', 'poweroff']),
  /**
   * The profile's customize: steps, applied after the image: its text with every other key
   * blanked out (src/deploy/profile-steps.ts), named `source` in messages; null when it has none.
   */
  customize: z.strictObject({ source: z.string(), yaml: z.string() }).nullable(),
  /** A report is due at least this often; past a few of these without one the deployment fails. */
  heartbeatSeconds: z.number().int().positive(),
});
export type AgentTask = z.infer<typeof AgentTask>;

/** A capture: read the machine's Windows partition into a WIM pushed as `target`. */
export const CaptureTask = z.strictObject({
  kind: z.literal('capture'),
  deployment: z.string(),
  machine: z.strictObject({ id: z.string(), name: z.string().nullable(), mac: z.string().nullable() }),
  target: z.strictObject({ name: z.string(), tag: z.string() }),
  /** The partition number to capture; null: the largest NTFS partition holding Windows. */
  partition: z.number().int().positive().nullable(),
  /** How the repository cuts chunks: the agent cuts the stream the same way. */
  chunking: z.strictObject({
    minSize: z.number().int().positive(),
    avgSize: z.number().int().positive(),
    maxSize: z.number().int().positive(),
  }),
  finish: z.enum(['reboot', 'poweroff']),
  heartbeatSeconds: z.number().int().positive(),
});
export type CaptureTask = z.infer<typeof CaptureTask>;

/** What the task route answers: a deployment's task, or a capture's. */
export const AnyAgentTask = z.union([AgentTask, CaptureTask]);
export type AnyAgentTask = z.infer<typeof AnyAgentTask>;

/** Chunk digests one query may ask about. */
export const MAX_CAPTURE_QUERY = 1024;

const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);

export const CaptureChunkQuery = z.strictObject({ digests: z.array(Sha256Hex).max(MAX_CAPTURE_QUERY) });
export type CaptureChunkQuery = z.infer<typeof CaptureChunkQuery>;

export const CaptureChunkAnswer = z.strictObject({ missing: z.array(Sha256Hex).max(MAX_CAPTURE_QUERY) });
export type CaptureChunkAnswer = z.infer<typeof CaptureChunkAnswer>;

/** The committed image, as the agent logs it. */
export const CaptureResult = z.strictObject({
  name: z.string(),
  tag: z.string(),
  digest: z.string(),
  size: z.number().int().nonnegative(),
});
export type CaptureResult = z.infer<typeof CaptureResult>;

/**
 * The files of the deployment share a deployment's steps use: paths relative to the share,
 * '/'-separated, with the size and SHA-256 the agent checks what it fetched against.
 */
export const ShareFiles = z.strictObject({
  files: z.array(
    z.strictObject({
      path: z.string().min(1).max(4096),
      size: z.number().int().nonnegative(),
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
    }),
  ),
});
export type ShareFiles = z.infer<typeof ShareFiles>;

/** One disk as the agent sees it (from /sys/block and udev's by-path links). */
export const DiskInfo = z.strictObject({
  path: z.string(),
  size: z.number().int().nonnegative(),
  model: z.string().nullable(),
  vendor: z.string().nullable(),
  serial: z.string().nullable(),
  wwn: z.string().nullable(),
  byPath: z.string().nullable(),
  rotational: z.boolean().nullable(),
  removable: z.boolean(),
  transport: z.string().nullable(),
});
export type DiskInfo = z.infer<typeof DiskInfo>;

export const AgentInventory = z.strictObject({
  disks: z.array(DiskInfo).max(256),
  nics: z.array(z.strictObject({ name: z.string(), mac: z.string() })).max(64),
  firmware: z.enum(['uefi', 'bios']),
  /** Null when the firmware does not say (BIOS, or no EFI variables). */
  secureBoot: z.boolean().nullable(),
});
export type AgentInventory = z.infer<typeof AgentInventory>;

/** Log lines one report may carry, and their length: a report stays small. */
export const MAX_REPORT_LINES = 200;
export const MAX_LINE_LENGTH = 2000;

export const AgentReport = z.strictObject({
  state: z.union([z.enum(AGENT_STATES), z.enum(CAPTURE_AGENT_STATES)]).optional(),
  progress: z
    .strictObject({ done: z.number().int().nonnegative(), total: z.number().int().nonnegative() })
    .optional(),
  log: z.array(z.string().max(MAX_LINE_LENGTH)).max(MAX_REPORT_LINES).optional(),
  inventory: AgentInventory.optional(),
  /** The disk chosen by the rule. */
  disk: z.string().max(256).optional(),
  /** With state `failed`: what failed, and in which step. */
  error: z.strictObject({ message: z.string().max(MAX_LINE_LENGTH), step: z.string().max(64) }).optional(),
  /** Where the agent is in its multicast session (when it is in one). */
  multicast: z
    .strictObject({
      state: z.enum(['receiving', 'done', 'unicast']),
      /** With `unicast`: why it left the session. */
      reason: z.string().max(MAX_LINE_LENGTH).optional(),
    })
    .optional(),
});
export type AgentReport = z.infer<typeof AgentReport>;

/**
 * A machine's place in a multicast session: waiting for the session to start, receiving, done
 * (its image came by multicast), moved to unicast (it came late, fell behind or dropped out, and
 * took the image over HTTP), or failed (its deployment failed or was cancelled before the end).
 */
export const MULTICAST_RECEIVER_STATES = ['waiting', 'receiving', 'done', 'unicast', 'failed'] as const;
export type MulticastReceiverState = (typeof MULTICAST_RECEIVER_STATES)[number];

/** How the agent is to receive its image, asked when it is about to apply it. */
export const MulticastJoin = z.discriminatedUnion('mode', [
  z.strictObject({
    mode: z.literal('multicast'),
    /** The session's name. */
    group: z.string(),
    /** udp-sender's address on the boot network (the receiving interface is the one on its subnet). */
    sender: z.string(),
    /** The session's multicast address and its two UDP ports (portBase, portBase + 1). */
    address: z.string(),
    portBase: z.number().int().min(1024).max(65534),
    /** The edition's index in what is sent (a pipable WIM of that edition alone: 1). */
    index: z.number().int().positive(),
    /** udp-receiver gives up when the session has not started within this, or is silent this long. */
    startTimeoutSeconds: z.number().int().positive(),
    receiveTimeoutSeconds: z.number().int().positive(),
  }),
  /** The session is getting ready: ask again after this. */
  z.strictObject({ mode: z.literal('wait'), seconds: z.number().int().positive() }),
  /** No session for this deployment, or not any more: take the image over HTTP. */
  z.strictObject({ mode: z.literal('unicast'), reason: z.string() }),
]);
export type MulticastJoin = z.infer<typeof MulticastJoin>;
