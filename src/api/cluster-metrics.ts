// Datastore metrics, pulled at scrape time like the rest (metrics.ts):
// bgp_datastore_up (1 connected, 0 not), bgp_datastore_resyncs_total (full
// lists since start), bgp_datastore_resources_rejected (resources skipped as
// malformed in the current state). Absent without a `datastore` key.

import { Counter, Gauge, type Registry } from 'prom-client';
import type { ApiDeps } from './deps.js';

export function registerClusterMetrics(deps: ApiDeps, registers: Registry[]): void {
  if (deps.cluster === undefined) return;
  const view = async () => deps.cluster?.();
  new Gauge({ name: 'bgp_datastore_up', help: 'The cluster datastore is reachable (1) or not (0)', registers, async collect() {
    const v = await view();
    if (v) this.set(v.connected ? 1 : 0);
  } });
  new Counter({ name: 'bgp_datastore_resyncs_total', help: 'Full lists of the cluster datastore since start', registers, async collect() {
    const v = await view();
    this.reset();
    if (v) this.inc(v.resyncs);
  } });
  new Gauge({ name: 'bgp_datastore_resources_rejected', help: 'Datastore resources skipped as malformed in the current state', registers, async collect() {
    const v = await view();
    const rejected = (v?.supplied as { rejected?: unknown[] } | undefined)?.rejected;
    this.set(rejected?.length ?? 0);
  } });
}
