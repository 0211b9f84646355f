// The server process: the HTTP listener (HTTPS when given a certificate), the plain boot listener
// when one is asked for, and any other services (DHCP and TFTP for network boot) under one
// lifecycle. One AbortController stops everything: close(), SIGINT/SIGTERM, or any service
// failing. Stopping the listener lets requests in flight finish (an upload cut short stays
// resumable: its chunks are stored one by one and the commit is one transaction).

import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { serve, type Http2Bindings, type HttpBindings } from '@hono/node-server';
import type { TlsSettings } from '../config/server-config.ts';
import { AppError, errorText } from '../core/errors.ts';
import { bootListenerFetch } from './boot-listener.ts';
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
  readonly fetch: (request: Request, env: HttpBindings | Http2Bindings) => Response | Promise<Response>;
  /** The certificate and key files: the listener then speaks HTTPS only. */
  readonly tls?: TlsSettings | null;
  /** A second listener, plain HTTP, serving only the boot routes and the deploy agent's. */
  readonly bootListen?: { readonly host: string; readonly port: number } | null;
  readonly logger: Logger;
  readonly services?: readonly Service[];
  /** Called once both listeners listen, before the services start: their real ports. */
  readonly onListening?: (ports: { readonly port: number; readonly bootPort: number | null }) => void;
  /** Stop on SIGINT and SIGTERM (the `winsmith server` command); tests leave it off. */
  readonly handleSignals?: boolean;
  /** Longest wait for requests in flight at shutdown before their connections are cut. */
  readonly drainMs?: number;
  /** Where each service's state is kept (for /api/health); a new one when absent. */
  readonly statuses?: ServiceStatuses;
}

export interface RunningServer {
  /** http(s)://HOST:PORT of the listener (the real port when 0 was asked). */
  readonly url: string;
  readonly port: number;
  /** http://HOST:PORT of the plain boot listener, or null without one. */
  readonly bootUrl: string | null;
  /** The one signal every service watches. */
  readonly signal: AbortSignal;
  /** Settles when everything has stopped; rejects with the first service failure. */
  readonly done: Promise<void>;
  /** Stops everything and waits for it. */
  close(): Promise<void>;
}

const DEFAULT_DRAIN_MS = 30_000;

/** One listener: its address, what answers there, its certificate and key (PEM) when HTTPS. */
interface ListenerSpec {
  readonly host: string;
  readonly port: number;
  readonly fetch: StartServerOptions['fetch'];
  readonly tls: { readonly cert: Buffer; readonly key: Buffer } | null;
  /** The option that sets the address, for the hint of a failure. */
  readonly flag: string;
}

async function readTls(tls: TlsSettings): Promise<{ cert: Buffer; key: Buffer }> {
  const read = async (path: string, what: string, flag: string): Promise<Buffer> => {
    try {
      return await readFile(path);
    } catch (e) {
      throw new AppError('FILE_NOT_FOUND', `the TLS ${what} ${path} cannot be read`, {
        hint: `check ${flag} (or tls.${what === 'certificate' ? 'cert' : 'key'} in the config)`,
        cause: e,
      });
    }
  };
  return {
    cert: await read(tls.cert, 'certificate', '--tls-cert'),
    key: await read(tls.key, 'key', '--tls-key'),
  };
}

function createListener(spec: ListenerSpec): Server {
  const address = { fetch: spec.fetch, hostname: spec.host, port: spec.port };
  if (spec.tls === null) return serve(address) as Server;
  try {
    return serve({ ...address, createServer: createHttpsServer, serverOptions: spec.tls }) as Server;
  } catch (e) {
    throw new AppError('INVALID_ARGUMENT', `the TLS certificate or key is not usable: ${errorText(e)}`, {
      hint: 'give a PEM certificate (its chain after it) and the PEM private key that belongs to it',
      cause: e,
    });
  }
}

function listen(spec: ListenerSpec): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createListener(spec);
    server.once('error', (e: NodeJS.ErrnoException) => {
      reject(
        new AppError('IO_ERROR', `cannot listen on ${spec.host}:${spec.port}: ${e.code ?? e.message}`, {
          hint:
            e.code === 'EADDRINUSE'
              ? `another process uses that port: choose another with ${spec.flag}`
              : `check ${spec.flag}`,
          cause: e,
        }),
      );
    });
    server.once('listening', () => resolve(server));
  });
}

function urlOf(server: Server, scheme: 'http' | 'https'): { url: string; port: number } {
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return { url: `${scheme}://${host}:${address.port}`, port: address.port };
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
  const failed = (e: unknown): never => {
    statuses.set('http', 'failed', errorText(e));
    throw e;
  };
  const tls = options.tls == null ? null : await readTls(options.tls).catch(failed);
  const http = await listen({ ...options, tls, flag: '--listen' }).catch(failed);
  const { url, port } = urlOf(http, tls === null ? 'http' : 'https');
  const bootListen = options.bootListen ?? null;
  const boot =
    bootListen === null
      ? null
      : await listen({
          ...bootListen,
          fetch: bootListenerFetch(options.fetch, () => url),
          tls: null,
          flag: '--boot-listen',
        }).catch(async (e: unknown) => {
          await stopHttp(http, 0);
          return failed(e);
        });
  const bootAddress = boot === null ? null : urlOf(boot, 'http');
  const bootUrl = bootAddress?.url ?? null;
  options.onListening?.({ port, bootPort: bootAddress?.port ?? null });
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

  const listeners = boot === null ? [http] : [http, boot];
  const httpService: Promise<void> = new Promise((resolve) => {
    signal.addEventListener(
      'abort',
      () =>
        void Promise.all(listeners.map((l) => stopHttp(l, options.drainMs ?? DEFAULT_DRAIN_MS))).then(() => {
          statuses.set('http', 'stopped');
          resolve();
        }),
      { once: true },
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
  if (bootUrl !== null) logger.log('info', 'boot listener', { url: bootUrl });
  logger.log('info', 'listening', { url, port });
  return {
    url,
    port,
    bootUrl,
    signal,
    done,
    async close() {
      stop('close');
      await done;
    },
  };
}
