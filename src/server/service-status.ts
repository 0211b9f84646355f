// The state of each part of a running server (the HTTP listener, the deployments' watch, TFTP,
// DHCP), as /api/health shows it. A service reports its own state as it goes (DHCP waits for its
// interface's address, then listens); startServer records when one starts, ends or fails.

export type ServiceState = 'starting' | 'waiting' | 'running' | 'stopped' | 'failed';

export interface ServiceStatus {
  readonly state: ServiceState;
  /** What it waits for, where it listens, or why it failed. */
  readonly detail: string | null;
}

/** What a service is handed to report its state with. */
export type ReportState = (state: ServiceState, detail?: string) => void;

export class ServiceStatuses {
  readonly #states = new Map<string, ServiceStatus>();

  set(service: string, state: ServiceState, detail: string | null = null): void {
    this.#states.set(service, { state, detail });
  }

  /** The reporter handed to one service. */
  reporter(service: string): ReportState {
    return (state, detail) => this.set(service, state, detail ?? null);
  }

  /** Every service by name, in the order they were first seen. */
  all(): Record<string, ServiceStatus> {
    return Object.fromEntries(this.#states);
  }
}
