// The messages between the main thread and the BFD worker (worker.ts,
// service.ts): commands one way; state changes, snapshots and errors the
// other. Structured-clone plain data only.

import type { BfdSessionSpec, BfdSnapshot, BfdStateChange } from './types.js';
import type { NativeTransportOptions } from './native-transport.js';

export interface BfdWorkerData {
  readonly transport: NativeTransportOptions;
}

export type ToWorker =
  | { readonly type: 'add'; readonly spec: BfdSessionSpec }
  | { readonly type: 'update'; readonly spec: BfdSessionSpec }
  | { readonly type: 'remove'; readonly peer: string }
  | { readonly type: 'admin-down'; readonly peer: string; readonly down: boolean }
  | { readonly type: 'snapshot'; readonly id: number; readonly resetGaps?: boolean }
  | { readonly type: 'stop'; readonly id: number };

export type FromWorker =
  | { readonly type: 'state'; readonly change: BfdStateChange }
  | { readonly type: 'snapshot'; readonly id: number; readonly snapshot: BfdSnapshot }
  | { readonly type: 'error'; readonly peer?: string; readonly message: string }
  | { readonly type: 'stopped'; readonly id: number };
