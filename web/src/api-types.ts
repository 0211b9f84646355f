// The bodies of the HTTP API as the console reads them: the types of the server's own schemas
// (src/server/schemas.ts) and events (src/app/events.ts), imported as types only, so that the
// console and the API cannot drift apart and no server code reaches the bundle.
import type { z } from 'zod';
import type { JobEvent } from '../../src/app/events.ts';
import type {
  AuditList as AuditListSchema,
  Build as BuildSchema,
  Caller as CallerSchema,
  CreatedUser as CreatedUserSchema,
  Deployment as DeploymentSchema,
  ImageDiff as ImageDiffSchema,
  ImageDirectory as ImageDirectorySchema,
  ImagePage as ImagePageSchema,
  ImageRecord as ImageRecordSchema,
  ImageSummary as ImageSummarySchema,
  IssuedToken as IssuedTokenSchema,
  LogLines as LogLinesSchema,
  Machine as MachineSchema,
  PasswordChange as PasswordChangeSchema,
  Profile as ProfileSchema,
  ProfileDetail as ProfileDetailSchema,
  StoreStats as StoreStatsSchema,
  TokenView as TokenViewSchema,
  UserView as UserViewSchema,
} from '../../src/server/schemas.ts';

export type AuditList = z.infer<typeof AuditListSchema>;
export type AuditEntry = AuditList['entries'][number];
export type Build = z.infer<typeof BuildSchema>;
export type Caller = z.infer<typeof CallerSchema>;
export type CreatedUser = z.infer<typeof CreatedUserSchema>;
export type Deployment = z.infer<typeof DeploymentSchema>;
export type ImageDiff = z.infer<typeof ImageDiffSchema>;
export type ImageDirectory = z.infer<typeof ImageDirectorySchema>;
export type ImagePage = z.infer<typeof ImagePageSchema>;
export type ImageRecord = z.infer<typeof ImageRecordSchema>;
export type ImageSummary = z.infer<typeof ImageSummarySchema>;
export type IssuedToken = z.infer<typeof IssuedTokenSchema>;
export type LogLine = z.infer<typeof LogLinesSchema>['lines'][number];
export type Machine = z.infer<typeof MachineSchema>;
export type PasswordChange = z.infer<typeof PasswordChangeSchema>;
export type Profile = z.infer<typeof ProfileSchema>;
export type ProfileDetail = z.infer<typeof ProfileDetailSchema>;
export type StoreStats = z.infer<typeof StoreStatsSchema>;
export type TokenView = z.infer<typeof TokenViewSchema>;
export type UserView = z.infer<typeof UserViewSchema>;

/** One event of GET /api/v1/events: a JobEvent as the server publishes it (src/app/events.ts). */
export type ServerEvent = JobEvent;

export type { Role } from '../../src/auth/roles.ts';
