// The bfd_* Prometheus series, pulled from ApiDeps.bfd() at scrape time like
// every other series (metrics.ts): per session its RFC 5880 state, Up -> Down
// flaps, changes to Down by diagnostic (RFC 5880 §4.1 Diag names) and the
// detection time (§6.8.4); and received datagrams dropped by reason.

import { Counter, Gauge, type Registry } from 'prom-client';
import type { ApiBfdList } from './bfd-schemas.js';
import type { ApiDeps } from './deps.js';

const STATE_VALUE: Record<string, number> = { AdminDown: 0, Down: 1, Init: 2, Up: 3 };

export function registerBfdMetrics(registry: Registry, deps: ApiDeps): void {
  const registers = [registry];
  // One snapshot serves every series of a scrape (cached 250 ms).
  let cached: { at: number; list: Promise<ApiBfdList | undefined> } | undefined;
  const list = () => {
    const now = Date.now();
    if (!cached || now - cached.at > 250) cached = { at: now, list: Promise.resolve(deps.bfd?.()) };
    return cached.list;
  };
  const sessions = async () => (await list())?.sessions ?? [];
  new Gauge({
    name: 'bfd_session_state',
    help: 'RFC 5880 session state: 0 AdminDown, 1 Down, 2 Init, 3 Up',
    labelNames: ['peer'],
    registers,
    async collect() {
      this.reset();
      for (const s of await sessions()) this.set({ peer: s.peer }, STATE_VALUE[s.state] ?? 1);
    },
  });
  new Gauge({
    name: 'bfd_session_detection_time_seconds',
    help: 'Negotiated detection time (RFC 5880 §6.8.4); 0 before the peer was heard',
    labelNames: ['peer'],
    registers,
    async collect() {
      this.reset();
      for (const s of await sessions()) this.set({ peer: s.peer }, s.detectionTimeMs / 1000);
    },
  });
  new Counter({
    name: 'bfd_session_flaps_total',
    help: 'Up -> Down transitions',
    labelNames: ['peer'],
    registers,
    async collect() {
      this.reset();
      for (const s of await sessions()) this.inc({ peer: s.peer }, s.flaps);
    },
  });
  new Counter({
    name: 'bfd_session_down_total',
    help: 'Changes to Down, by RFC 5880 diagnostic',
    labelNames: ['peer', 'diagnostic'],
    registers,
    async collect() {
      this.reset();
      for (const s of await sessions()) for (const [diagnostic, n] of Object.entries(s.downsByDiagnostic)) this.inc({ peer: s.peer, diagnostic }, n);
    },
  });
  new Counter({
    name: 'bfd_packets_dropped_total',
    help: 'Received BFD datagrams dropped, by reason (RFC 5880 §6.8.6, RFC 5881 §5)',
    labelNames: ['reason'],
    registers,
    async collect() {
      this.reset();
      for (const [reason, n] of Object.entries((await list())?.dropped ?? {})) if (n) this.inc({ reason }, n);
    },
  });
}
