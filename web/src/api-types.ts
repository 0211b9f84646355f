// The bodies of the HTTP API as the console reads them: the types of the server's own schemas
// (src/server/schemas.ts) and events (src/app/events.ts), imported as types only, so that the
// console and the API cannot drift apart and no server code reaches the bundle.
import type { z } from 'zod';
import type { JobEvent } from '../../src/app/events.ts';
import type {
  Build as BuildSchema,
  Caller as CallerSchema,
  Deployment as DeploymentSchema,
  ImageDiff as ImageDiffSchema,
  ImageDirectory as ImageDirectorySchema,
  ImagePage as ImagePageSchema,
  ImageRecord as ImageRecordSchema,
  ImageSummary as ImageSummarySchema,
  IssuedToken as IssuedTokenSchema,
  LogLines as LogLinesSchema,
  Machine as MachineSchema,
  Profile as ProfileSchema,
  ProfileDetail as ProfileDetailSchema,
  StoreStats as StoreStatsSchema,
} from '../../src/server/schemas.ts';

export type Build = z.infer<typeof BuildSchema>;
export type Caller = z.infer<typeof CallerSchema>;
export type Deployment = z.infer<typeof DeploymentSchema>;
export type ImageDiff = z.infer<typeof ImageDiffSchema>;
export type ImageDirectory = z.infer<typeof ImageDirectorySchema>;
export type ImagePage = z.infer<typeof ImagePageSchema>;
export type ImageRecord = z.infer<typeof ImageRecordSchema>;
export type ImageSummary = z.infer<typeof ImageSummarySchema>;
export type IssuedToken = z.infer<typeof IssuedTokenSchema>;
export type LogLine = z.infer<typeof LogLinesSchema>['lines'][number];
export type Machine = z.infer<typeof MachineSchema>;
export type Profile = z.infer<typeof ProfileSchema>;
export type ProfileDetail = z.infer<typeof ProfileDetailSchema>;
export type StoreStats = z.infer<typeof StoreStatsSchema>;

/** One event of GET /api/v1/events: a JobEvent as the server publishes it (src/app/events.ts). */
export type ServerEvent = JobEvent;
