// Config fuzzing on a running daemon: seeded mutations of the example configs
// that still validate are applied with daemon.reload() one after another (as
// SIGHUP or POST /config/reload would). Each reload resolves to applied or
// rejected with reasons; it never throws, never leaves an uncaught exception,
// and the daemon keeps answering and stops cleanly at the end. Addresses are
// pinned to loopback so nothing binds or dials beyond 127.0.0.0/8.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { parseConfig } from '../../src/config/load.js';
import { startDaemon, type Daemon } from '../../src/daemon/daemon.js';
import { recordingLogger } from '../helpers/session.js';
import { prng, type Prng } from './prng.js';

const CONFIG_DIR = join(import.meta.dirname, '../../config');
const texts = [join(CONFIG_DIR, 'bgp-ts.yaml'), ...readdirSync(join(CONFIG_DIR, 'examples')).filter((f) => f.endsWith('.yaml')).map((f) => join(CONFIG_DIR, 'examples', f))].map((f) => readFileSync(f, 'utf8'));
const opts = { readSecret: () => 'robustness-token-0123456789abcdef' };

type Doc = Record<string, unknown>;

/** Loopback only, no FIB, no API, no passwords or GTSM (no raw socket options in the unit project). */
function pin(doc: Doc, r: Prng): Doc {
  doc.listen = { addresses: ['127.0.0.131'], port: 0 };
  doc.api = { listen: 'none' };
  doc.fib = { enabled: false };
  const neighbors = Array.isArray(doc.neighbors) ? (doc.neighbors as Doc[]) : [];
  neighbors.forEach((n, i) => {
    if (typeof n !== 'object' || n === null) return;
    n.address = `127.13.${i}.${1 + r.int(3)}`;
    n.passive = true;
    delete n.password;
    delete n.ttlSecurity;
    delete n.localAddress;
  });
  delete doc.listenRanges;
  return doc;
}

function mutate(doc: Doc, r: Prng): void {
  const keys = Object.keys(doc);
  const key = r.pick(keys);
  const v = doc[key];
  switch (r.int(5)) {
    case 0:
      if (!['routerId', 'asn'].includes(key)) delete doc[key];
      break;
    case 1:
      if (Array.isArray(v) && v.length > 0) v.splice(r.int(v.length), 1);
      break;
    case 2:
      if (Array.isArray(v) && v.length > 0) v.push(structuredClone(v[r.int(v.length)]));
      break;
    case 3:
      if (typeof v === 'number') doc[key] = Math.max(1, v + r.pick([-1, 1, 100]));
      break;
    default: {
      const n = (doc.neighbors as Doc[] | undefined)?.[0];
      if (n) n[r.pick(['holdTime', 'asn', 'families', 'nextHopMode', 'routeReflectorClient'])] = r.pick([0, 3, 9, 65000, ['ipv4-unicast'], 'self', true]);
    }
  }
}

let daemon: Daemon | undefined;
afterAll(async () => daemon?.stop());

describe('config fuzzing on a running daemon: reload of mutated, still valid configs', () => {
  it('80 reloads: applied or rejected with reasons; never a throw; the daemon stops cleanly', async () => {
    const faults: unknown[] = [];
    const onFault = (e: unknown) => faults.push(e);
    process.on('uncaughtException', onFault);
    process.on('unhandledRejection', onFault);
    try {
      const r = prng(0xc0f1_6e10);
      const first = parseConfig(stringify(pin(parse(texts[0]!) as Doc, r)), undefined, opts);
      if (!first.ok) throw new Error(JSON.stringify(first.errors));
      const log = recordingLogger('warn');
      daemon = await startDaemon(first.config, { logger: log.logger });
      const seen = { applied: 0, rejected: 0, invalid: 0 };
      for (let i = 0; i < 80; i++) {
        // The running config's identity, with sections borrowed from another example, then mutated.
        const doc = parse(texts[0]!) as Doc;
        const other = parse(texts[i % texts.length]!) as Doc;
        const section = r.pick(['neighbors', 'originate', 'ipPools', 'import', 'export', 'serviceCidrs', 'log']);
        if (other[section] !== undefined) doc[section] = other[section];
        mutate(doc, r);
        if (r.int(2)) mutate(doc, r);
        const parsed = parseConfig(stringify(pin(doc, r)), undefined, opts);
        if (!parsed.ok) {
          seen.invalid++;
          continue;
        }
        const out = await daemon.reload(parsed.config);
        if (out.ok) {
          seen.applied++;
          expect(Array.isArray(out.changes), `case ${i}`).toBe(true);
        } else {
          seen.rejected++;
          expect(out.errors.length, `case ${i}`).toBeGreaterThan(0);
          for (const e of out.errors) expect(e.length, `case ${i}`).toBeGreaterThan(0);
        }
        expect(Array.isArray(daemon.sessions())).toBe(true);
        expect(faults, `case ${i}`).toEqual([]);
      }
      expect(seen.applied).toBeGreaterThan(10);
      expect(seen.rejected).toBeGreaterThan(5); // asn / routerId / cluster changes need a restart
      await daemon.stop();
      daemon = undefined;
      expect(faults).toEqual([]);
    } finally {
      process.off('uncaughtException', onFault);
      process.off('unhandledRejection', onFault);
    }
  }, 30_000);
});
