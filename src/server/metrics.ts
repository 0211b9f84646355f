// GET /metrics in Prometheus's text format, made by prom-client on a registry of the server's own:
// HTTP requests by route and status with their latency, bytes pushed and pulled, the boot services'
// DHCP and TFTP packets, TFTP transfers and boot scripts (src/boot counts them through its log's
// count()), deployments by state, the store's size and dedup ratio (read from the application at
// most every FIGURES_MAX_AGE_MS: the store's size lists every chunk), and the process's own figures.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ServerFigures } from '../app/session.ts';
import type { BootCount } from '../boot/boot-log.ts';

/** Store and deployment figures are read again after this long, not at every scrape. */
export const FIGURES_MAX_AGE_MS = 30_000;

/** Latency buckets in seconds: a health check takes a millisecond, a large chunk a few seconds. */
const HTTP_SECONDS_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export interface ServerMetricsOptions {
  /** The application's figures (LocalApp.figures). */
  readonly figures: () => Promise<ServerFigures>;
  /** The process's figures (CPU, memory, event loop, handles): only for a real server process. */
  readonly processFigures?: boolean;
}

export class ServerMetrics {
  readonly registry = new Registry();
  readonly #httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly #httpSeconds: Histogram<'method' | 'route' | 'status'>;
  readonly #pushedBytes: Counter;
  readonly #pulledBytes: Counter;
  readonly #dhcpPackets: Counter<'direction'>;
  readonly #tftpPackets: Counter<'direction'>;
  readonly #tftpTransfers: Counter<'outcome'>;
  readonly #tftpBytes: Counter;
  readonly #bootScripts: Counter<'loader'>;
  readonly #figures: () => Promise<ServerFigures>;
  #cached: { readonly at: number; readonly figures: Promise<ServerFigures> } | null = null;

  constructor(options: ServerMetricsOptions) {
    const registers = [this.registry];
    this.#figures = options.figures;
    this.#httpRequests = new Counter({
      name: 'winsmith_http_requests_total',
      help: 'HTTP requests answered, by method, route and status',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.#httpSeconds = new Histogram({
      name: 'winsmith_http_request_duration_seconds',
      help: 'Time from a request to its answer, by method, route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: HTTP_SECONDS_BUCKETS,
      registers,
    });
    this.#pushedBytes = new Counter({
      name: 'winsmith_pushed_bytes_total',
      help: 'Chunk bytes received by pushes',
      registers,
    });
    this.#pulledBytes = new Counter({
      name: 'winsmith_pulled_bytes_total',
      help: 'Image content bytes sent to pulls and deploy agents',
      registers,
    });
    this.#dhcpPackets = new Counter({
      name: 'winsmith_dhcp_packets_total',
      help: 'DHCP packets received, sent (answers) and dropped (unreadable or from another network)',
      labelNames: ['direction'],
      registers,
    });
    this.#tftpPackets = new Counter({
      name: 'winsmith_tftp_packets_total',
      help: 'TFTP packets received (requests and acknowledgements) and sent (data and option acks)',
      labelNames: ['direction'],
      registers,
    });
    this.#tftpTransfers = new Counter({
      name: 'winsmith_tftp_transfers_total',
      help: 'TFTP transfers ended, by outcome (done, timed out, client error, stopped, no answer)',
      labelNames: ['outcome'],
      registers,
    });
    this.#tftpBytes = new Counter({
      name: 'winsmith_tftp_transfer_bytes_total',
      help: 'Bytes of the files of the TFTP transfers ended done',
      registers,
    });
    this.#bootScripts = new Counter({
      name: 'winsmith_boot_scripts_total',
      help: 'Boot scripts and configs answered to machines, by loader (ipxe, grub)',
      labelNames: ['loader'],
      registers,
    });
    const figures = (): Promise<ServerFigures> => this.#readFigures();
    new Gauge({
      name: 'winsmith_deployments',
      help: 'Deployments in each state',
      labelNames: ['state'],
      registers,
      async collect() {
        for (const [state, n] of Object.entries((await figures()).deployments)) this.set({ state }, n);
      },
    });
    const storeGauge = (name: string, help: string, value: (f: ServerFigures) => number): void => {
      new Gauge({
        name,
        help,
        registers,
        async collect() {
          this.set(value(await figures()));
        },
      });
    };
    storeGauge(
      'winsmith_store_logical_bytes',
      'Sum of the sizes of the stored images',
      (f) => f.store.logicalBytes,
    );
    storeGauge('winsmith_store_stored_bytes', 'Bytes the stored chunks take', (f) => f.store.storedBytes);
    storeGauge('winsmith_store_chunks', 'Chunks stored', (f) => f.store.chunks);
    storeGauge('winsmith_store_images', 'Image contents stored (artifacts)', (f) => f.store.artifacts);
    storeGauge(
      'winsmith_store_dedup_ratio',
      'Logical bytes over stored bytes (1 when nothing is stored)',
      (f) => (f.store.storedBytes === 0 ? 1 : f.store.logicalBytes / f.store.storedBytes),
    );
    if (options.processFigures === true) collectDefaultMetrics({ register: this.registry });
  }

  /** Counts one HTTP answer. `route` is the route's pattern ('/api/v1/images/{name}/tags/{tag}'). */
  request(method: string, route: string, status: number, seconds: number): void {
    const labels = { method, route, status: String(status) };
    this.#httpRequests.inc(labels);
    this.#httpSeconds.observe(labels, seconds);
  }

  pushed(bytes: number): void {
    this.#pushedBytes.inc(bytes);
  }

  pulled(bytes: number): void {
    this.#pulledBytes.inc(bytes);
  }

  /** Counts what the boot services report (src/boot's BootLog.count). */
  boot(event: BootCount): void {
    switch (event.counter) {
      case 'dhcp-packet':
        this.#dhcpPackets.inc({ direction: event.direction });
        return;
      case 'tftp-request':
        this.#tftpPackets.inc({ direction: 'received' });
        return;
      case 'tftp-transfer':
        this.#tftpTransfers.inc({ outcome: event.outcome });
        this.#tftpPackets.inc({ direction: 'received' }, event.received);
        this.#tftpPackets.inc({ direction: 'sent' }, event.sent);
        if (event.outcome === 'done') this.#tftpBytes.inc(event.bytes);
        return;
      case 'boot-script':
        this.#bootScripts.inc({ loader: event.loader });
        return;
    }
  }

  /** The text a scrape is answered with. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The application's figures, read again once they are older than FIGURES_MAX_AGE_MS. */
  #readFigures(): Promise<ServerFigures> {
    const now = Date.now();
    if (this.#cached === null || now - this.#cached.at > FIGURES_MAX_AGE_MS) {
      const figures = this.#figures();
      // A failed read is not kept: the next scrape tries again.
      figures.catch(() => (this.#cached = null));
      this.#cached = { at: now, figures };
    }
    return this.#cached.figures;
  }
}
