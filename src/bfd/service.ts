// The main thread's side of BFD: a BfdService (types.ts) whose sessions run in
// the BFD worker thread (worker.ts), so their packets and timers keep time
// while the main loop ingests a million routes. It keeps the last state of
// every session (stateOf, synchronous, for the peer object and the RFC 5882
// coupling) and forwards state changes to listeners. `inlineBfdService` runs
// the same engine on the calling thread instead: the benchmark's comparison,
// and a fallback nobody configures.

import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { systemClock } from '../lib/clock.js';
import { BfdEngine, canonicalAddress } from './engine.js';
import type { BfdWorkerData, FromWorker, ToWorker } from './messages.js';
import { nativeTransport, type NativeTransportOptions } from './native-transport.js';
import type { BfdState } from './packet.js';
import type { BfdService, BfdSessionSpec, BfdSnapshot, BfdStateChange } from './types.js';

export interface BfdServiceOptions {
  readonly transport?: NativeTransportOptions;
  /** Errors the worker reports (a socket that cannot be bound, a bad address). */
  readonly onError?: (message: string, peer?: string) => void;
}

/** dist/bfd/worker.js beside this file; from the TypeScript sources (tests) the built one in dist/. */
export function workerPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const sibling = join(here, 'worker.js');
  if (existsSync(sibling)) return sibling;
  const built = resolve(here, '..', '..', 'dist', 'bfd', 'worker.js');
  if (existsSync(built)) return built;
  throw new Error(`the BFD worker is not built (${built}): run "npm run build"`);
}

const key = (peer: string): string => canonicalAddress(peer)?.address ?? peer;

abstract class BaseService implements BfdService {
  protected readonly states = new Map<string, BfdState>();
  private readonly listeners = new Set<(c: BfdStateChange) => void>();

  protected emit(change: BfdStateChange): void {
    this.states.set(change.peer, change.to);
    for (const l of this.listeners) l(change);
  }

  stateOf(peer: string): BfdState | undefined {
    return this.states.get(key(peer));
  }

  onStateChange(listener: (change: BfdStateChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  add(spec: BfdSessionSpec): void {
    if (!this.states.has(key(spec.peer))) this.states.set(key(spec.peer), 'Down');
    this.command({ type: 'add', spec });
  }
  update(spec: BfdSessionSpec): void {
    this.command({ type: 'update', spec });
  }
  remove(peer: string): void {
    this.states.delete(key(peer));
    this.command({ type: 'remove', peer });
  }
  adminDown(peer: string, down: boolean): void {
    this.command({ type: 'admin-down', peer, down });
  }

  protected abstract command(m: Exclude<ToWorker, { type: 'snapshot' | 'stop' }>): void;
  abstract snapshot(opts?: { resetGaps?: boolean }): Promise<BfdSnapshot>;
  abstract stop(): Promise<void>;
}

class WorkerBfdService extends BaseService {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, (m: FromWorker) => void>();
  private exited = false;

  constructor(private readonly opts: BfdServiceOptions) {
    super();
    const data: BfdWorkerData = { transport: opts.transport ?? {} };
    this.worker = new Worker(workerPath(), { workerData: data, name: 'bgp-ts-bfd' });
    this.worker.unref();
    this.worker.on('message', (m: FromWorker) => this.onMessage(m));
    this.worker.on('error', (err) => opts.onError?.(`BFD worker failed: ${err.message}`));
    this.worker.on('exit', () => {
      this.exited = true;
      for (const [id, done] of this.pending) done({ type: 'stopped', id });
      this.pending.clear();
    });
  }

  private onMessage(m: FromWorker): void {
    if (m.type === 'state') this.emit(m.change);
    else if (m.type === 'error') this.opts.onError?.(m.message, m.peer);
    else {
      const done = this.pending.get(m.id);
      this.pending.delete(m.id);
      done?.(m);
    }
  }

  protected command(m: ToWorker): void {
    if (!this.exited) this.worker.postMessage(m);
  }

  private ask(m: { type: 'snapshot'; resetGaps?: boolean } | { type: 'stop' }): Promise<FromWorker> {
    if (this.exited) return Promise.resolve({ type: 'stopped', id: 0 });
    const id = this.nextId++;
    return new Promise((res) => {
      this.pending.set(id, res);
      this.worker.postMessage({ ...m, id });
    });
  }

  async snapshot(opts: { resetGaps?: boolean } = {}): Promise<BfdSnapshot> {
    const r = await this.ask({ type: 'snapshot', ...(opts.resetGaps ? { resetGaps: true } : {}) });
    return r.type === 'snapshot' ? r.snapshot : { sessions: [], received: 0, dropped: {} };
  }

  async stop(): Promise<void> {
    await this.ask({ type: 'stop' });
    await this.worker.terminate().catch(() => undefined);
  }
}

class InlineBfdService extends BaseService {
  private readonly engine: BfdEngine;
  constructor(opts: BfdServiceOptions) {
    super();
    this.engine = new BfdEngine({
      clock: systemClock,
      random: Math.random,
      transport: nativeTransport(opts.transport),
      onStateChange: (c) => this.emit(c),
    });
    this.onError = opts.onError;
  }
  private readonly onError: BfdServiceOptions['onError'];

  protected command(m: Exclude<ToWorker, { type: 'snapshot' | 'stop' }>): void {
    try {
      if (m.type === 'add') this.engine.add(m.spec);
      else if (m.type === 'update') this.engine.update(m.spec.peer, m.spec);
      else if (m.type === 'remove') this.engine.remove(m.peer, true);
      else this.engine.adminDown(m.peer, m.down);
    } catch (err) {
      this.onError?.((err as Error).message, 'spec' in m ? m.spec.peer : m.peer);
    }
  }
  async snapshot(opts: { resetGaps?: boolean } = {}): Promise<BfdSnapshot> {
    const s = this.engine.snapshot();
    if (opts.resetGaps) this.engine.resetGaps();
    return s;
  }
  async stop(): Promise<void> {
    await this.engine.stop();
  }
}

/** BFD sessions in a worker thread (the daemon's choice). */
export function workerBfdService(opts: BfdServiceOptions = {}): BfdService & { snapshot(o?: { resetGaps?: boolean }): Promise<BfdSnapshot> } {
  return new WorkerBfdService(opts);
}

/** BFD sessions on the calling thread's event loop (benchmark comparison). */
export function inlineBfdService(opts: BfdServiceOptions = {}): BfdService & { snapshot(o?: { resetGaps?: boolean }): Promise<BfdSnapshot> } {
  return new InlineBfdService(opts);
}

/**
 * The daemon's BFD service: the worker thread; BGPTS_BFD_INLINE=1 puts the
 * engine on the main event loop instead (only for the benchmark that measures
 * why it is not there: bench/bfd.ts).
 */
export function defaultBfdService(opts: BfdServiceOptions = {}): BfdService {
  return process.env['BGPTS_BFD_INLINE'] === '1' ? inlineBfdService(opts) : workerBfdService(opts);
}
