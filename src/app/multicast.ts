// Multicast sessions as the server runs them. A session sends one edition of one image to the
// deployments made with it. When the first of its agents asks how to receive the image, the
// server makes that edition into a pipable WIM (the repository's WIMs are not pipable, and an
// agent applies from the pipe udp-receiver writes to: docs/deploy.md) and starts udp-sender on the
// boot network's interface, a child process of the server: it starts when enough receivers joined
// or some time after the first, drops a receiver that stops acknowledging, and ends when every
// receiver has the image. A machine that asks once sending has begun, or whose receiver fails,
// takes the image over HTTP (unicast). The sender is stopped with the server, or when every
// deployment of its session has ended; its pipable WIM is removed with it.

import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { AppError, errorText } from '../core/errors.ts';
import type { AgentReport, MulticastJoin, MulticastReceiverState } from '../deploy/agent-protocol.ts';
import {
  chooseSessionPlace,
  joinAnswer,
  parseMulticastRange,
  type AddressRange,
} from '../deploy/multicast-rules.ts';
import {
  sessionEnded,
  type MulticastSession,
  type MulticastSessionState,
  type MulticastStore,
} from '../deploy/multicast-store.ts';
import { ipv4AddressOf } from '../engines/netns.ts';
import type { RunningService } from '../engines/run.ts';
import { startUdpSender } from '../engines/udpcast.ts';
import { wimExport } from '../engines/wimlib.ts';
import type { LocalRepository } from '../store/repository-local.ts';
import type { MulticastSettings } from '../config/server-config.ts';

/** A session's own rules, each in place of the server's default. */
export interface MulticastRules {
  readonly minReceivers?: number;
  readonly maxWaitSeconds?: number;
  readonly maxBitsPerSecond?: number;
  /** Its multicast address, in place of the next free one of the range. */
  readonly address?: string;
}

/** A deployment's place in its multicast session, as a deployment's view shows it. */
export interface DeploymentMulticast {
  readonly group: string;
  readonly session: string;
  readonly state: MulticastReceiverState;
  readonly reason: string | null;
  readonly sessionState: MulticastSessionState;
  /** Why the session failed, when it did. */
  readonly sessionError: string | null;
  readonly address: string;
  readonly bytesSent: number;
  readonly bytesTotal: number;
}

/** The exit status of setpriv (and of `ip netns exec`) when the program it runs is not found. */
const PROGRAM_NOT_FOUND = 127;

/** The states of a session not ended. */
const OPEN_STATES: readonly MulticastSessionState[] = ['queued', 'preparing', 'joining', 'sending'];

/** How often a sender's progress is written and published, at most. */
const PROGRESS_EVERY_MS = 1000;
/** How often a running session looks whether any of its deployments is still under way. */
const WATCH_EVERY_MS = 2000;

interface RunningSession {
  sender: RunningService | null;
  /** udp-sender's address on the boot network, read when it starts ('' until then). */
  senderAddress: string;
  stopping: boolean;
  /** A watch is running: the next tick does not start another beside it. */
  watching: boolean;
  readonly timer: NodeJS.Timeout;
  /** Settles when the session has ended and its file is removed. */
  ended: Promise<void>;
}

/** Whether the session is being stopped (read afresh: it changes while the session runs). */
function isStopping(running: RunningSession): boolean {
  return running.stopping;
}

export class MulticastService {
  readonly #store: MulticastStore;
  readonly #repo: LocalRepository;
  readonly #settings: MulticastSettings;
  readonly #range: AddressRange;
  /** Whether a deployment is still under way (not done, failed or cancelled). */
  readonly #underWay: (deploymentId: string) => Promise<boolean>;
  /** Publishes the deployments of a session that changed. */
  readonly #changed: (deploymentIds: readonly string[]) => Promise<void>;
  readonly #running = new Map<string, RunningSession>();
  #closing = false;

  constructor(parts: {
    readonly store: MulticastStore;
    readonly repo: LocalRepository;
    readonly settings: MulticastSettings;
    readonly underWay: (deploymentId: string) => Promise<boolean>;
    readonly changed: (deploymentIds: readonly string[]) => Promise<void>;
  }) {
    this.#store = parts.store;
    this.#repo = parts.repo;
    this.#settings = parts.settings;
    this.#range = parseMulticastRange(parts.settings.addresses, 'multicast.addresses');
    this.#underWay = parts.underWay;
    this.#changed = parts.changed;
  }

  /** Where a new session would send. */
  async place(rules: MulticastRules): Promise<{ address: string; portBase: number }> {
    return chooseSessionPlace(
      this.#range,
      this.#settings.portBase,
      await this.#store.activeSessions(),
      rules.address,
    );
  }

  /** The names of the sessions under way. */
  async activeNames(): Promise<string[]> {
    return (await this.#store.activeSessions()).map((s) => s.name);
  }

  /** Records a new session for `deploymentIds` (made by the caller, of one image and edition). */
  async createSession(
    name: string,
    image: { readonly digest: string; readonly edition: number },
    deploymentIds: readonly string[],
    rules: MulticastRules,
    createdBy: string,
  ): Promise<MulticastSession> {
    const { address, portBase } = await this.place(rules);
    return this.#store.createSession(
      {
        id: randomUUID(),
        name,
        image,
        address,
        portBase,
        minReceivers: rules.minReceivers ?? this.#settings.minReceivers ?? deploymentIds.length,
        maxWaitSeconds: rules.maxWaitSeconds ?? this.#settings.maxWaitSeconds,
        maxBitsPerSecond: rules.maxBitsPerSecond ?? this.#settings.maxBitsPerSecond,
        createdBy,
      },
      deploymentIds,
    );
  }

  /** The multicast part of each of `ids` that is in a session (two queries, whatever their number). */
  async viewsOf(ids: readonly string[]): Promise<Map<string, DeploymentMulticast>> {
    const views = new Map<string, DeploymentMulticast>();
    if (ids.length === 0) return views;
    const { receivers, sessions } = await this.#store.receiversAmong(ids);
    for (const receiver of receivers) {
      const session = sessions.get(receiver.sessionId);
      if (session === undefined) continue;
      views.set(receiver.deploymentId, {
        group: session.name,
        session: session.id,
        state: receiver.state,
        reason: receiver.reason,
        sessionState: session.state,
        sessionError: session.error,
        address: session.address,
        bytesSent: session.bytesSent,
        bytesTotal: session.bytesTotal,
      });
    }
    return views;
  }

  /** A deployment that ended failed or cancelled while waiting or receiving: failed in its session. */
  async deploymentEnded(id: string, state: 'done' | 'failed' | 'cancelled'): Promise<void> {
    if (state === 'done') return;
    const receiver = await this.#store.receiverOf(id);
    if (receiver === undefined) return;
    if (receiver.state === 'waiting' || receiver.state === 'receiving')
      await this.#store.setReceiverState(id, 'failed', `the deployment was ${state}`);
    // A session no machine asked for yet, none of whose deployments is under way, ends here (a
    // running one is stopped by its watch).
    if (this.#running.has(receiver.sessionId)) return;
    for (const other of await this.#store.receiversOf(receiver.sessionId)) {
      if (await this.#underWay(other.deploymentId)) return;
    }
    await this.#store.setSessionState(receiver.sessionId, ['queued'], 'cancelled');
  }

  /** What the agent of deployment `id` is told when it asks how to receive its image. */
  async join(id: string): Promise<MulticastJoin> {
    const receiver = await this.#store.receiverOf(id);
    const session = receiver === undefined ? undefined : await this.#store.getSession(receiver.sessionId);
    if (receiver === undefined || session === undefined)
      return { mode: 'unicast', reason: 'the deployment is in no multicast session' };
    let current = session;
    if (!this.#running.has(session.id) && !sessionEnded(session.state)) {
      if (session.state === 'queued') {
        this.#start(session);
        current = { ...session, state: 'preparing' };
      } else {
        // Prepared or started by a server process that is gone: its sender went with it.
        await this.#store.setSessionState(
          session.id,
          [session.state],
          'failed',
          'the server that ran it stopped',
        );
        current = { ...session, state: 'failed', error: 'the server that ran it stopped' };
      }
    }
    const answer = joinAnswer(current, receiver, {
      sender: this.#running.get(session.id)?.senderAddress ?? '',
      receiveTimeoutSeconds: this.#settings.receiveTimeoutSeconds,
    });
    if (answer.mode === 'unicast' && receiver.state !== 'unicast') {
      await this.#store.setReceiverState(id, 'unicast', answer.reason);
      await this.#changed([id]);
    }
    return answer;
  }

  /** The agent's word on its place in the session. */
  async report(id: string, report: NonNullable<AgentReport['multicast']>): Promise<void> {
    await this.#store.setReceiverState(id, report.state, report.reason ?? null);
  }

  /** Prepares the session's pipable WIM and starts its sender, in the background. */
  #start(session: MulticastSession): void {
    const running: RunningSession = {
      sender: null,
      senderAddress: '',
      stopping: false,
      watching: false,
      timer: setInterval(() => void this.#watch(session.id).catch(() => undefined), WATCH_EVERY_MS),
      ended: Promise.resolve(),
    };
    this.#running.set(session.id, running);
    running.ended = this.#run(session, running)
      .catch((e: unknown) =>
        this.#store.setSessionState(
          session.id,
          OPEN_STATES,
          'failed',
          running.stopping ? 'the server stopped' : errorText(e),
        ),
      )
      .then(async () => {
        clearInterval(running.timer);
        this.#running.delete(session.id);
        await rm(this.#fileOf(session), { force: true });
        await this.#changed((await this.#store.receiversOf(session.id)).map((r) => r.deploymentId));
      })
      .catch(() => undefined);
  }

  #fileOf(session: MulticastSession): string {
    return join(this.#settings.workDir, `${session.id}.wim`);
  }

  async #run(session: MulticastSession, running: RunningSession): Promise<void> {
    const device = this.#settings.interface;
    if (device === null) {
      throw new AppError('INVALID_ARGUMENT', 'multicast needs the boot network interface; none is set', {
        hint: 'set multicast.interface (e.g. br0) in the server config: docs/deploy.md, Multicast',
      });
    }
    await this.#store.setSessionState(session.id, ['queued'], 'preparing');
    const address = await ipv4AddressOf(device, this.#settings.netns);
    if (address === null) {
      throw new AppError('INVALID_ARGUMENT', `the multicast interface ${device} has no IPv4 address`, {
        hint: "set multicast.interface to the boot network's interface, the one the machines are on",
      });
    }
    running.senderAddress = address;
    const file = this.#fileOf(session);
    await this.#preparePipable(session, file);
    if (isStopping(running)) throw new AppError('CONFLICT', 'stopped while being prepared');
    const total = (await stat(file)).size;
    await this.#store.setSessionProgress(session.id, 0, total);
    const ids = (await this.#store.receiversOf(session.id)).map((r) => r.deploymentId);
    const seen = { complete: false, sent: 0, at: 0 };
    const sender = startUdpSender({
      file,
      interface: device,
      address: session.address,
      portBase: session.portBase,
      minReceivers: session.minReceivers,
      maxWaitSeconds: session.maxWaitSeconds,
      maxBitsPerSecond: session.maxBitsPerSecond,
      retriesUntilDrop: this.#settings.retriesUntilDrop,
      netns: this.#settings.netns,
      onEvent: (event) => {
        if (event.kind === 'started') {
          void this.#store.setSessionState(session.id, ['joining'], 'sending').then(() => this.#changed(ids));
        } else if (event.kind === 'progress') {
          seen.sent = event.bytes;
          if (Date.now() - seen.at < PROGRESS_EVERY_MS) return;
          seen.at = Date.now();
          void this.#store.setSessionProgress(session.id, seen.sent, total).then(() => this.#changed(ids));
        } else if (event.kind === 'complete') seen.complete = true;
      },
    });
    running.sender = sender;
    await this.#store.setSessionState(session.id, ['preparing'], 'joining');
    await this.#changed(ids);
    const exit = await sender.exited;
    await this.#store.setSessionProgress(session.id, seen.complete ? total : seen.sent, total);
    if (exit.error !== null) throw exit.error;
    if (seen.complete && exit.code === 0) await this.#store.setSessionState(session.id, OPEN_STATES, 'done');
    else if (this.#closing)
      await this.#store.setSessionState(session.id, OPEN_STATES, 'failed', 'the server stopped');
    else if (running.stopping) await this.#store.setSessionState(session.id, OPEN_STATES, 'cancelled');
    else if (exit.code === PROGRAM_NOT_FOUND) {
      throw new AppError('MISSING_PROGRAM', 'udp-sender is not installed', {
        hint: 'install the Debian package udpcast: apt-get install -y udpcast',
      });
    } else {
      const last = sender
        .output()
        .split(/[\r\n]+/)
        .filter((l) => l.trim() !== '' && !l.startsWith('bytes='))
        .at(-1);
      throw new AppError(
        'PROGRAM_FAILED',
        `udp-sender ended (exit ${String(exit.code ?? exit.signal)}): ${last ?? 'no message'}`,
      );
    }
  }

  /** The session's edition as a pipable WIM in `file`: the image written out whole, then exported. */
  async #preparePipable(session: MulticastSession, file: string): Promise<void> {
    await mkdir(this.#settings.workDir, { recursive: true });
    const source = `${file}.source`;
    try {
      const image = await this.#repo.imageOfDigest(session.image.digest);
      const content = await this.#repo.readContent(image, image.digest);
      const out = createWriteStream(source);
      await content.writeTo(out);
      out.end();
      await finished(out);
      await wimExport(source, session.image.edition, file, { pipable: true });
    } finally {
      await rm(source, { force: true });
    }
  }

  /** Stops the sender of a session none of whose deployments is under way any more. */
  async #watch(id: string): Promise<void> {
    const running = this.#running.get(id);
    if (running === undefined || running.stopping || running.watching) return;
    running.watching = true;
    try {
      for (const receiver of await this.#store.receiversOf(id)) {
        if (await this.#underWay(receiver.deploymentId)) return;
      }
      running.stopping = true;
      await running.sender?.stop();
    } finally {
      running.watching = false;
    }
  }

  /** Stops every sender this process runs; their sessions fail (their agents go unicast). */
  async close(): Promise<void> {
    this.#closing = true;
    await Promise.all(
      [...this.#running.values()].map(async (running) => {
        running.stopping = true;
        await running.sender?.stop();
        await running.ended;
      }),
    );
  }
}
