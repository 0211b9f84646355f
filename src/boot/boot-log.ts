// The log the network boot services write to: the same shape as the server's JSON logger
// (src/server/log.ts), declared here so that src/boot does not depend on the server layer.

export type BootLogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface BootLog {
  log(level: BootLogLevel, msg: string, fields?: Readonly<Record<string, unknown>>): void;
}

export const silentBootLog: BootLog = { log: () => undefined };
