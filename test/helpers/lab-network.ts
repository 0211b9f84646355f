// A lab network (src/lab/lab-network.ts) for one test: made fresh, and closed afterwards whatever
// happens — its programs stopped, its namespace deleted. The logs in its directory are removed when
// the test passes, and kept (their folder named in the error) when it fails.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LabNetwork } from '../../src/lab/lab-network.ts';

export async function withLabNetwork<T>(fn: (network: LabNetwork) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'winsmith-labtest-'));
  const network = await LabNetwork.open({ dir, prefix: 'ws-test' });
  let passed = false;
  try {
    const result = await fn(network).catch((e: unknown) => {
      if (e instanceof Error) e.message += ` (logs in ${dir})`;
      throw e;
    });
    passed = true;
    return result;
  } finally {
    await network.close();
    if (passed) await rm(dir, { recursive: true, force: true });
  }
}
