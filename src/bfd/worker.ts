// The BFD worker thread: owns the BFD engine, its UDP sockets and timers, so
// that RIB, FIB and API work on the main event loop cannot delay a transmit or
// fake a detection-time expiry (DESIGN.md, BFD). Only commands come in and
// only state changes, snapshots and errors go out (messages.ts).

import { parentPort, workerData } from 'node:worker_threads';
import { systemClock } from '../lib/clock.js';
import { BfdEngine } from './engine.js';
import type { BfdWorkerData, FromWorker, ToWorker } from './messages.js';
import { nativeTransport } from './native-transport.js';

const port = parentPort;
if (!port) throw new Error('src/bfd/worker.ts runs only as a worker thread');
const post = (m: FromWorker): void => port.postMessage(m);
const data = workerData as BfdWorkerData;

let engine: BfdEngine | undefined;
try {
  engine = new BfdEngine({
    clock: systemClock,
    random: Math.random,
    transport: nativeTransport(data.transport),
    onStateChange: (change) => post({ type: 'state', change }),
  });
} catch (err) {
  post({ type: 'error', message: `BFD cannot start: ${(err as Error).message}` });
}

port.on('message', (m: ToWorker) => {
  if (!engine) {
    if (m.type === 'snapshot') post({ type: 'snapshot', id: m.id, snapshot: { sessions: [], received: 0, dropped: {} } });
    if (m.type === 'stop') post({ type: 'stopped', id: m.id });
    return;
  }
  try {
    switch (m.type) {
      case 'add':
        engine.add(m.spec);
        break;
      case 'update':
        engine.update(m.spec.peer, m.spec);
        break;
      case 'remove':
        engine.remove(m.peer, true);
        break;
      case 'admin-down':
        engine.adminDown(m.peer, m.down);
        break;
      case 'snapshot':
        post({ type: 'snapshot', id: m.id, snapshot: engine.snapshot() });
        if (m.resetGaps) engine.resetGaps();
        break;
      case 'stop':
        // AdminDown to every peer at once, sent on for at most STOP_BUDGET_MS (engine.ts), then stopped.
        void engine.stop().then(() => {
          post({ type: 'stopped', id: m.id });
          port.close();
        });
        break;
    }
  } catch (err) {
    const peer = 'spec' in m ? m.spec.peer : 'peer' in m ? m.peer : undefined;
    post({ type: 'error', ...(peer !== undefined ? { peer } : {}), message: (err as Error).message });
  }
});
