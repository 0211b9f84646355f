// A thread of diffImagesApart (diff.ts): compares the two images it is given and posts the diff, or
// the error's code, message and hint (an AppError does not cross a thread as itself). Reading the
// hives is JavaScript work of seconds on a real image: here it does not hold up the thread that
// started it (a server answering other requests).

import { parentPort, workerData } from 'node:worker_threads';
import { AppError, isAppError } from '../core/errors.ts';
import { diffImages, type DiffThreadAnswer } from './diff.ts';

const port = parentPort;
if (port === null) {
  throw new AppError('INTERNAL', 'diff-worker.ts runs as a worker thread, not as a program', {
    hint: 'start it through diffImagesApart()',
  });
}
const { refA, refB } = workerData as { refA: string; refB: string };
let answer: DiffThreadAnswer;
try {
  answer = { diff: await diffImages(refA, refB) };
} catch (e) {
  answer = isAppError(e)
    ? { error: { code: e.code, message: e.message, hint: e.hint ?? null } }
    : { error: { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e), hint: null } };
}
port.postMessage(answer);
