// Progress of long operations, as events. Engines parse their programs' output into these; the CLI
// draws them as a bar, the server will send them as server-sent events.

export interface ProgressEvent {
  /** What is being done, in a few words: "Archiving file data", "Extracting". */
  readonly phase: string;
  readonly done: number;
  readonly total: number;
  readonly unit: 'bytes' | 'items';
}

export type ProgressListener = (event: ProgressEvent) => void;

export const ignoreProgress: ProgressListener = () => undefined;
