// The catalog's tables as Kysely sees them. Column names are snake_case in the database; the
// Catalog class maps rows to the camelCase records the rest of winsmith uses. Timestamps are ISO
// 8601 UTC strings (Date.toISOString(): they sort as text on both dialects); booleans are 0/1
// integers; JSON values are text. Sizes are bigint in PostgreSQL (returned as strings by pg) and
// integers in SQLite: read them through Catalog's number conversion only.

import type { Generated } from 'kysely';

/** The two dialects the catalog runs on. */
export type DatabaseKind = 'sqlite' | 'postgres';

export interface ArtifactsTable {
  digest: string;
  media_type: string;
  size: number | string;
  sha256: string;
  editions: string;
  pushed_by: string | null;
  pushed_at: string;
  parent_digest: string | null;
  recipe: string | null;
  source_iso_sha256: string | null;
}

export interface TagsTable {
  name: string;
  tag: string;
  digest: string;
  updated_by: string | null;
  updated_at: string;
}

export interface TagHistoryTable {
  id: Generated<number>;
  name: string;
  tag: string;
  /** Null when the tag was removed. */
  digest: string | null;
  previous_digest: string | null;
  changed_by: string | null;
  changed_at: string;
}

export interface UploadsTable {
  id: string;
  name: string;
  tag: string;
  manifest_digest: string;
  manifest: string;
  created_by: string | null;
  created_at: string;
  updated_at: string;
  state: string;
}

export interface UsersTable {
  name: string;
  password_hash: string;
  role: string;
  scopes: string;
  disabled: number;
  created_at: string;
  updated_at: string;
}

export interface TokensTable {
  id: string;
  token_hash: string;
  name: string;
  user_name: string;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
  /** A JSON list of image-name prefixes the token is limited to, within its user's; empty: none. */
  scopes: Generated<string>;
  /** 'login' (a session opened with a password) or 'api'. */
  kind: Generated<string>;
}

export interface AuditLogTable {
  id: Generated<number>;
  at: string;
  actor: string | null;
  action: string;
  target: string | null;
  client: string | null;
  details: string;
}

export interface MachinesTable {
  id: string;
  /** Null for a machine registered by its SMBIOS UUID that has not booted yet. */
  mac: string | null;
  smbios_uuid: string | null;
  /** Unique when set. */
  name: string | null;
  /** A JSON list of label strings. */
  labels: Generated<string>;
  serial: string | null;
  manufacturer: string | null;
  product: string | null;
  arch: string | null;
  platform: string | null;
  inventory: string;
  first_seen: string;
  last_seen: string;
  /** 'pending' (registered by booting) or 'ready' (approved, or registered by an operator). */
  state: Generated<string>;
}

export interface LeasesTable {
  ip: string;
  mac: string;
  expires_at: string;
  updated_at: string;
}

/** A chunk an artifact's manifest references (each pair once). */
export interface ArtifactChunksTable {
  artifact_digest: string;
  chunk_digest: string;
}

/** A chunk an open upload has accounted for: sent, or reused from an image its caller may read. */
export interface UploadChunksTable {
  upload_id: string;
  chunk_digest: string;
}

export interface ProfilesTable {
  name: string;
  /** The profile's YAML, sealed (it may hold passwords). */
  sealed: string;
  /** What listings show: image, firmware, finish (JSON, no secret). */
  summary: string;
  created_by: string | null;
  created_at: string;
  updated_by: string | null;
  updated_at: string;
}

export interface DeploymentsTable {
  id: string;
  machine_id: string;
  profile: string;
  image_name: string;
  image_tag: string;
  image_digest: string;
  image_size: number | string;
  edition: number;
  state: string;
  /** JSON list of { state, at }. */
  history: string;
  created_by: string | null;
  created_at: string;
  updated_at: string;
  /** sha256 hex of the agent's token, set when the deploy environment is started. */
  token_hash: string | null;
  /** The deployment's secrets and its rendered answer file, sealed. */
  sealed: string;
  unattend_fetched_at: string | null;
  progress_done: Generated<number | string>;
  progress_total: Generated<number | string>;
  disk: string | null;
  /** JSON: the hardware the agent reported. */
  inventory: string | null;
  error_message: string | null;
  error_step: string | null;
  last_report_at: string | null;
  /** 'deploy' or 'capture'. */
  kind: Generated<string>;
  /** A capture's partition number; null: the agent finds the Windows partition. */
  capture_partition: number | null;
  /** The upload a capture's agent streams into. */
  upload_id: string | null;
}

export interface DeploymentLogTable {
  id: Generated<number>;
  deployment_id: string;
  at: string;
  line: string;
}

export interface MulticastSessionsTable {
  id: string;
  /** The group the operator named. */
  name: string;
  image_digest: string;
  edition: number;
  address: string;
  port_base: number;
  min_receivers: number;
  max_wait_seconds: number;
  max_bits_per_second: number | string | null;
  state: string;
  bytes_sent: Generated<number | string>;
  bytes_total: Generated<number | string>;
  error: string | null;
  created_by: string | null;
  created_at: string;
  updated_at: string;
}

export interface MulticastReceiversTable {
  deployment_id: string;
  session_id: string;
  state: string;
  reason: string | null;
  updated_at: string;
}

export interface CatalogSchema {
  profiles: ProfilesTable;
  multicast_sessions: MulticastSessionsTable;
  multicast_receivers: MulticastReceiversTable;
  deployments: DeploymentsTable;
  deployment_log: DeploymentLogTable;
  artifacts: ArtifactsTable;
  artifact_chunks: ArtifactChunksTable;
  upload_chunks: UploadChunksTable;
  tags: TagsTable;
  tag_history: TagHistoryTable;
  uploads: UploadsTable;
  users: UsersTable;
  tokens: TokensTable;
  audit_log: AuditLogTable;
  machines: MachinesTable;
  leases: LeasesTable;
}
