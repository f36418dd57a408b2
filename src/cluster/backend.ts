// What every datastore backend is to the daemon (etcd-backend.ts,
// kube-backend.ts): start, stop, a status in one shape, and the latest desired
// state. Kept apart from the backends so that importing it loads no client.

import { hostname } from 'node:os';
import type { DatastoreConfig } from '../config/schema.js';
import type { ClusterDesired } from './model.js';

export interface DatastoreStatus {
  readonly type: 'etcdv3' | 'kubernetes';
  readonly endpoints: readonly string[];
  readonly nodeName: string;
  readonly connected: boolean;
  /** When the datastore was last lost (absent while connected or before the first attempt failed). */
  readonly unreachableSince?: Date;
  readonly lastError?: string;
  /** The etcd revision (Kubernetes: the highest resourceVersion) the model's set reflects. */
  readonly revision?: number;
  readonly lastSync?: Date;
  /** Completed lists (the first one included). */
  readonly resyncs: number;
  /** Duration of the last list + model, ms. */
  readonly lastResyncMs?: number;
  /** Why the last list ran: start, reconnect, compacted, watch cancelled. */
  readonly lastResync?: string;
  readonly keys: number;
}

export interface DatastoreBackend {
  start(): void;
  stop(): Promise<void>;
  status(): DatastoreStatus;
  /** The latest desired state, once a first list succeeded. */
  desired(): ClusterDesired | undefined;
}

/**
 * The node name the datastore knows us by: datastore.nodeName, else $NODENAME
 * (Calico's variable; a DaemonSet fills it from the downward API's
 * spec.nodeName, which can differ from the host's name), else the hostname.
 */
export const datastoreNodeName = (c: DatastoreConfig, env: NodeJS.ProcessEnv = process.env): string => c.nodeName ?? (env['NODENAME'] || undefined) ?? hostname();
