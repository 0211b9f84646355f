// What the provisioning script inside a build VM sends winsmith (src/build/provision-script.ts),
// described once: POST {reportUrl} with `Authorization: Bearer <the build's token>` and one of
// these JSON objects. The sender is a VM running whatever the recipe installed: every report is
// checked (size first, then shape) before anything of it is used.

import { z } from 'zod';

/** A report is small; a longer body is refused before it is read whole. */
export const MAX_REPORT_BYTES = 64 * 1024;
/** The output kept of a step (its end, as the script cuts it). */
export const MAX_OUTPUT_CHARS = 8192;

const step = z.number().int().nonnegative().max(10_000);
const round = z.number().int().nonnegative().max(100);
const output = z.string().max(MAX_OUTPUT_CHARS);

export const BuildReport = z.discriminatedUnion('event', [
  /** Windows is installed and the script is set up; the VM restarts. */
  z.strictObject({ event: z.literal('installed') }),
  z.strictObject({ event: z.literal('start'), step, kind: z.string().max(32), round }),
  z.strictObject({ event: z.literal('end'), step, ok: z.boolean(), output }),
  /** A Windows Update round that installed updates: the same step again after a restart. */
  z.strictObject({ event: z.literal('round'), step, round, output }),
  z.strictObject({ event: z.literal('restart'), step, round }),
  /** Every step done; the VM restarts before Sysprep. */
  z.strictObject({ event: z.literal('provisioned') }),
  /** Sysprep starts; the VM powers off when it is done. */
  z.strictObject({ event: z.literal('generalize') }),
]);
export type BuildReport = z.infer<typeof BuildReport>;
