// The server process: the HTTP listener and any other services (DHCP and TFTP for network boot) under
// one lifecycle. One AbortController stops everything: close(), SIGINT/SIGTERM, or any service
// failing. Stopping the listener lets requests in flight finish (an upload cut short stays
// resumable: its chunks are stored one by one and the commit is one transaction).

import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { AppError, errorText } from '../core/errors.ts';
import type { Logger } from './log.ts';
import { ServiceStatuses, type ReportState } from './service-status.ts';

/**
 * A long-running part of the server: resolves when `signal` aborts and it has stopped. It reports
 * 'running' once it serves (or 'waiting', and for what) through `report`.
 */
export interface Service {
  readonly name: string;
  start(signal: AbortSignal, report: ReportState): Promise<void>;
}

export interface StartServerOptions {
  readonly host: string;
  readonly port: number;
  readonly fetch: (request: Request) => Response | Promise<Response>;
  readonly logger: Logger;
  readonly services?: readonly Service[];
  /** Stop on SIGINT and SIGTERM (the `winsmith server` command); tests leave it off. */
  readonly handleSignals?: boolean;
  /** Longest wait for requests in flight at shutdown before their connections are cut. */
  readonly drainMs?: number;
  /** Where each service's state is kept (for /api/health); a new one when absent. */
  readonly statuses?: ServiceStatuses;
}

export interface RunningServer {
  /** http://HOST:PORT of the listener (the real port when 0 was asked). */
  readonly url: string;
  readonly port: number;
  /** The one signal every service watches. */
  readonly signal: AbortSignal;
  /** Settles when everything has stopped; rejects with the first service failure. */
  readonly done: Promise<void>;
  /** Stops everything and waits for it. */
  close(): Promise<void>;
}

const DEFAULT_DRAIN_MS = 30_000;

function listen(options: StartServerOptions): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: options.fetch, hostname: options.host, port: options.port }) as Server;
    server.once('error', (e: NodeJS.ErrnoException) => {
      reject(
        new AppError('IO_ERROR', `cannot listen on ${options.host}:${options.port}: ${e.code ?? e.message}`, {
          hint:
            e.code === 'EADDRINUSE'
              ? 'another process uses that port: choose another with --listen'
              : 'check --listen',
          cause: e,
        }),
      );
    });
    server.once('listening', () => resolve(server));
  });
}

function stopHttp(server: Server, drainMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), drainMs);
    // Keep-alive connections become idle as their last response ends: close them as they do.
    const idle = setInterval(() => server.closeIdleConnections(), 100);
    server.close(() => {
      clearTimeout(timer);
      clearInterval(idle);
      resolve();
    });
    server.closeIdleConnections();
  });
}

export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const controller = new AbortController();
  const { signal } = controller;
  const { logger } = options;
  const statuses = options.statuses ?? new ServiceStatuses();
  statuses.set('http', 'starting');
  const http = await listen(options).catch((e: unknown) => {
    statuses.set('http', 'failed', errorText(e));
    throw e;
  });
  const address = http.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  let failure: Error | null = null;

  const stop = (reason: string): void => {
    if (signal.aborted) return;
    logger.log('info', 'stopping', { reason });
    controller.abort(new Error(reason));
  };
  const onSignal = (name: NodeJS.Signals) => () => stop(name);
  const onInt = onSignal('SIGINT');
  const onTerm = onSignal('SIGTERM');
  if (options.handleSignals === true) {
    process.once('SIGINT', onInt);
    process.once('SIGTERM', onTerm);
  }

  const httpService: Promise<void> = new Promise((resolve) => {
    signal.addEventListener(
      'abort',
      () =>
        void stopHttp(http, options.drainMs ?? DEFAULT_DRAIN_MS).then(() => {
          statuses.set('http', 'stopped');
          resolve();
        }),
      {
        once: true,
      },
    );
  });
  const services = (options.services ?? []).map(async (service) => {
    logger.log('info', 'service starting', { service: service.name });
    statuses.set(service.name, 'starting');
    try {
      await service.start(signal, statuses.reporter(service.name));
      statuses.set(service.name, 'stopped');
      if (!signal.aborted) stop(`service ${service.name} ended`);
    } catch (e) {
      statuses.set(service.name, 'failed', errorText(e));
      failure ??= e instanceof Error ? e : new Error(String(e));
      logger.log('error', 'service failed', {
        service: service.name,
        error: errorText(e),
      });
      stop(`service ${service.name} failed`);
    }
  });

  const done = Promise.all([httpService, ...services]).then(() => {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
    logger.log('info', 'stopped', {});
    if (failure !== null) throw failure;
  });
  // The caller may only await close(); a failure is still reported through `done`.
  done.catch(() => undefined);
  statuses.set('http', 'running', url);
  logger.log('info', 'listening', { url, port: address.port });
  return {
    url,
    port: address.port,
    signal,
    done,
    async close() {
      stop('close');
      await done;
    },
  };
}
