// `winsmith server` as the deploy agent's tests need it, in this process (serveRepository, with its
// deployment watch): a new data directory with a WIM pushed in small chunks (a sample of a few MiB
// is many of them), the profiles and machines a test adds, deployments started as a machine's boot
// script starts them (the agent's token made then), and the API on 127.0.0.1, port 0. What an agent
// did is read back from the server: the deployment's view and log lines, the events it published,
// its log (JSON lines, as `winsmith server` writes them on stderr).

import { join } from 'node:path';
import { artifactMetaOf } from '../../src/app/artifact-meta.ts';
import type { DeploymentView } from '../../src/app/deployments.ts';
import type { JobEvent } from '../../src/app/events.ts';
import type { LocalApp } from '../../src/app/local-app.ts';
import type { Session } from '../../src/app/session.ts';
import { manifestOfFile, pushFile } from '../../src/app/transfer.ts';
import { embeddedSettings, type MulticastSettings } from '../../src/config/server-config.ts';
import { AGENT_STATES, CAPTURE_AGENT_STATES, type DiskRule } from '../../src/deploy/agent-protocol.ts';
import { createJsonLogger } from '../../src/server/log.ts';
import { serveRepository } from '../../src/server/serve.ts';
import type { RunningServer } from '../../src/server/server.ts';
import type { ChunkerOptions } from '../../src/store/chunker.ts';
import type { Manifest } from '../../src/store/manifest.ts';
import type { ImageRecord } from '../../src/store/repository.ts';

/** Small chunks, so that a sample of a few MiB is many of them. */
export const SMALL_CHUNKS: ChunkerOptions = { minSize: 16 * 1024, avgSize: 64 * 1024, maxSize: 256 * 1024 };
export const IMAGE_REF = { name: 'windows/server-2022', tag: 'sample' } as const;
const OPERATOR = { user: 'operator', client: 'test' } as const;
/** The states a deployment that ends done goes through, in order. */
export const STATES_TO_DONE = ['queued', 'booting', ...AGENT_STATES.slice(0, -1)];
/** The states a capture that ends done goes through, in order. */
export const CAPTURE_STATES_TO_DONE = ['queued', 'booting', ...CAPTURE_AGENT_STATES.slice(0, -1)];

export interface ProfileSpec {
  readonly name: string;
  readonly firmware: 'uefi' | 'bios';
  readonly disk?: DiskRule;
  /** Default WEB-{mac6}. */
  readonly computerName?: string;
  /** Default generate. */
  readonly adminPassword?: string;
  /** More top-level YAML (e.g. an unattend: section). */
  readonly more?: string;
}

/** A profile's YAML for the pushed image. */
export function profileYaml(spec: ProfileSpec): string {
  return [
    `name: ${spec.name}`,
    `image: ${IMAGE_REF.name}:${IMAGE_REF.tag}`,
    `firmware: ${spec.firmware}`,
    `disk: ${JSON.stringify(spec.disk ?? {})}`,
    `computerName: ${spec.computerName ?? 'WEB-{mac6}'}`,
    `adminPassword: ${JSON.stringify(spec.adminPassword ?? 'generate')}`,
    'finish: reboot',
    spec.more ?? '',
  ].join('\n');
}

/** One line of the server's request log. */
export interface RequestLine {
  readonly time: string;
  readonly method: string;
  readonly path: string;
  readonly status: number;
}

export interface StartedDeployment {
  readonly id: string;
  /** The agent's token, as the boot script puts it on the kernel command line. */
  readonly token: string;
}

export interface DeployServer {
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  readonly app: LocalApp;
  /** An operator's session on the server's application. */
  readonly session: Session;
  /** The image as pushed, and its manifest (the chunks in order). */
  readonly image: ImageRecord;
  readonly manifest: Manifest;
  /** The server's log: one JSON object a line. */
  readonly log: string[];
  /** Every event the server published. */
  readonly events: JobEvent[];
  applyProfile(spec: ProfileSpec): Promise<void>;
  addMachine(name: string, mac: string): Promise<void>;
  /** A deployment of `profile` to the machine, started by the machine's boot script. */
  deploy(
    machine: { readonly name: string; readonly mac: string },
    profile: string,
  ): Promise<StartedDeployment>;
  /** A capture of the machine into `tag` (NAME:TAG), started by the machine's boot script. */
  capture(
    machine: { readonly name: string; readonly mac: string },
    tag: string,
    partition?: number,
  ): Promise<StartedDeployment>;
  /** The deployment's views the events published, in order. */
  viewsOf(id: string): DeploymentView[];
  /** The deployment once `ready` holds for it; rejects after `timeoutMs`. */
  until(id: string, ready: (view: DeploymentView) => boolean, timeoutMs: number): Promise<DeploymentView>;
  /** The request log's lines of the paths that start with `prefix`. */
  requests(prefix: string): RequestLine[];
  /** Stops the server and closes its application. */
  close(): Promise<void>;
}

export interface DeployServerOptions {
  /** How the image is chunked when pushed (default SMALL_CHUNKS). */
  readonly chunking?: ChunkerOptions;
  readonly heartbeatSeconds?: number;
  readonly agentTimeoutSeconds?: number;
  /** Multicast settings in place of the defaults (which have no interface: no sessions). */
  readonly multicast?: Partial<MulticastSettings>;
}

/** Serves a new data directory `dataDir` with `wim` pushed as IMAGE_REF. */
export async function startDeployServer(
  dataDir: string,
  wim: string,
  options: DeployServerOptions = {},
): Promise<DeployServer> {
  const log: string[] = [];
  const defaults = embeddedSettings(dataDir);
  const { server, app } = await serveRepository(
    {
      ...defaults,
      host: '127.0.0.1',
      port: 0,
      chunking: options.chunking ?? SMALL_CHUNKS,
      heartbeatSeconds: options.heartbeatSeconds ?? 2,
      agentTimeoutSeconds: options.agentTimeoutSeconds ?? defaults.agentTimeoutSeconds,
      multicast: { ...defaults.multicast, ...options.multicast },
    },
    { logger: createJsonLogger({ write: (line: string) => log.push(line.trimEnd()) }) },
  );
  try {
    return await deployServerOn(server, app, dataDir, wim, log);
  } catch (e) {
    await server.close();
    throw e;
  }
}

async function deployServerOn(
  server: RunningServer,
  app: LocalApp,
  dataDir: string,
  wim: string,
  log: string[],
): Promise<DeployServer> {
  const events: JobEvent[] = [];
  app.events.subscribe((e) => events.push(e));
  const session = app.as(OPERATOR);
  const { image } = await pushFile(session.images, wim, IMAGE_REF, await artifactMetaOf(wim));
  const manifest = await manifestOfFile(wim, image.mediaType, app.chunking);
  const viewsOf = (id: string): DeploymentView[] =>
    events.flatMap((e) => {
      const view = e.kind === 'deployment' ? (e.result as DeploymentView) : null;
      return view?.id === id ? [view] : [];
    });
  return {
    url: server.url,
    port: server.port,
    dataDir,
    app,
    session,
    image,
    manifest,
    log,
    events,
    async applyProfile(spec) {
      await session.profiles.apply(profileYaml(spec), `${spec.name}.yaml`);
    },
    async addMachine(name, mac) {
      await session.machines.add({ name, mac });
    },
    async deploy(machine, profile) {
      const made = await session.deployments.create({ machine: machine.name, profile });
      const started = await app.bootPorts().registry.startDeployment(machine.mac);
      if (started === null || started.deployment !== made.id) {
        throw new Error(`the boot script of ${machine.name} started no deployment`);
      }
      return { id: made.id, token: started.token };
    },
    async capture(machine, tag, partition) {
      const made = await session.deployments.capture({
        machine: machine.name,
        tag,
        ...(partition === undefined ? {} : { partition }),
      });
      const started = await app.bootPorts().registry.startDeployment(machine.mac);
      if (started === null || started.deployment !== made.id) {
        throw new Error(`the boot script of ${machine.name} started no capture`);
      }
      return { id: made.id, token: started.token };
    },
    viewsOf,
    until(id, ready, timeoutMs) {
      return new Promise((resolve, reject) => {
        const done = (view: DeploymentView): void => {
          clearTimeout(timer);
          unsubscribe();
          resolve(view);
        };
        const timer = setTimeout(() => {
          unsubscribe();
          const last = viewsOf(id).at(-1);
          reject(new Error(`deployment ${id} not as awaited after ${timeoutMs} ms: ${JSON.stringify(last)}`));
        }, timeoutMs);
        const unsubscribe = app.events.subscribe((e) => {
          const view = e.kind === 'deployment' ? (e.result as DeploymentView) : null;
          if (view?.id === id && ready(view)) done(view);
        });
        session.deployments.show(id).then((view) => {
          if (ready(view)) done(view);
        }, reject);
      });
    },
    requests(prefix) {
      return log.flatMap((line) => {
        const entry = JSON.parse(line) as Partial<RequestLine> & { msg: string };
        return entry.msg === 'request' && entry.path?.startsWith(prefix) === true
          ? [
              {
                time: entry.time ?? '',
                method: entry.method ?? '',
                path: entry.path,
                status: entry.status ?? 0,
              },
            ]
          : [];
      });
    },
    close: () => server.close(),
  };
}

/** Runs `fn` on a server of a new data directory under `dir`; stopped after, whatever happens. */
export async function withDeployServer(
  dir: string,
  wim: string,
  fn: (server: DeployServer) => Promise<void>,
  options: DeployServerOptions = {},
): Promise<void> {
  const server = await startDeployServer(join(dir, 'data'), wim, options);
  try {
    await fn(server);
  } finally {
    await server.close();
  }
}
