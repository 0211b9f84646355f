// The deploy agent's entry point, run in the deploy environment as `node /winsmith/agent.mjs` (this
// module bundled): it reads the server, token and deployment from /proc/cmdline, runs the
// deployment (run-agent.ts), and ends with the machine restarting or powering off as the task says.
//
//   node agent.mjs [--cmdline FILE] [--inventory FILE] [--no-finish] [--receive-netns NS]
//
//   --cmdline FILE       a kernel command line to read instead of /proc/cmdline
//   --inventory FILE     disk image files to deploy to instead of the machine's disks (inventory.ts)
//   --no-finish          report done and exit instead of restarting or powering off
//   --receive-netns NS   receive a multicast session inside network namespace NS (a machine's
//                        network made of namespaces, as the tests make it)
//
// Exit status: 0 done, 1 failed, 2 the command line (or kernel command line) is not usable.

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseAgentConfig, type AgentConfig } from './agent-config.ts';
import { finishMachine } from './finish.ts';
import { readInventoryFile, readSystemInventory } from './inventory.ts';
import { messageOf } from './messages.ts';
import { runAgent } from './run-agent.ts';
import { errorText } from '../core/errors.ts';

function print(line: string): void {
  process.stderr.write(`${new Date().toISOString()} ${line}\n`);
}

async function main(): Promise<number> {
  let values: {
    cmdline: string;
    inventory?: string | undefined;
    'no-finish'?: boolean | undefined;
    'receive-netns'?: string | undefined;
  };
  try {
    ({ values } = parseArgs({
      options: {
        cmdline: { type: 'string', default: '/proc/cmdline' },
        inventory: { type: 'string' },
        'no-finish': { type: 'boolean' },
        'receive-netns': { type: 'string' },
      },
      strict: true,
    }));
  } catch (e) {
    print(
      `error: ${errorText(e)} — usage: agent [--cmdline FILE] [--inventory FILE] [--no-finish] [--receive-netns NS]`,
    );
    return 2;
  }
  const inventoryFile = values.inventory;
  let config: AgentConfig;
  try {
    config = parseAgentConfig(await readFile(values.cmdline, 'utf8'));
  } catch (e) {
    print(`error: ${messageOf(e)}`);
    return 2;
  }
  const workDir = await mkdtemp(join(tmpdir(), 'winsmith-agent-'));
  try {
    const outcome = await runAgent({
      config,
      inventory: () =>
        inventoryFile === undefined ? readSystemInventory() : readInventoryFile(inventoryFile),
      finish:
        values['no-finish'] === true
          ? (action) => {
              print(`finish: ${action} (not done: --no-finish)`);
              return Promise.resolve();
            }
          : (action) => finishMachine(action),
      workDir,
      print,
      ...(values['receive-netns'] === undefined ? {} : { receiveNetns: values['receive-netns'] }),
    });
    return outcome === 'done' ? 0 : 1;
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

process.exit(await main());
