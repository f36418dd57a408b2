// API fuzzing against a running daemon's HTTP API (api.listen 127.0.0.1:0):
// bad JSON, wrong types, oversized bodies, bad prefixes (/33, /129, host bits
// set), unknown peers, unicode junk in paths and query strings. Every answer is
// a 4xx with a JSON `{error, message}` that names the problem, never a 500, and
// the RIB (routes, originated prefixes) is identical before and after. A valid
// announce/withdraw pair shows the check would see a change. Seeded. Bound
// beyond loopback (buildApi with test/api's fake deps), junk Authorization
// headers get a 401 and never reach the core.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { startDaemon, type Daemon } from '../../src/daemon/daemon.js';
import { buildApi } from '../../src/api/server.js';
import { fakeDeps } from '../api/fake-deps.js';
import { recordingLogger } from '../helpers/session.js';
import { prng } from './prng.js';

const YAML = `
routerId: 10.0.0.71
asn: 65071
listen: { addresses: ["127.0.0.71"], port: 0 }
api: { listen: "127.0.0.71:0" }
fib: { enabled: false }
originate:
  - { prefix: 10.244.71.0/26, communities: ["65071:1"] }
  - { prefix: "fd00:71::/64" }
neighbors:
  - { address: 127.0.0.72, asn: 65072, passive: true }
`;

let daemon: Daemon;
let base: string;
const log = recordingLogger('info');

beforeAll(async () => {
  const c = parseConfig(YAML);
  if (!c.ok) throw new Error(JSON.stringify(c.errors));
  daemon = await startDaemon(c.config, { logger: log.logger });
  base = daemon.apiUrl!;
});
afterAll(async () => daemon?.stop());

/** What the RIB holds: routes per family, originated prefixes, paths. */
function ribFingerprint(): string {
  const t = daemon.rib.totals();
  return JSON.stringify({ routes: t.routes, paths: t.paths, originated: daemon.rib.originated().map((o) => [o.prefix, o]) });
}

interface Probe {
  readonly method: string;
  readonly path: string;
  readonly body?: string | Buffer;
  readonly type?: string;
  /** A word the message must contain (case-insensitive). */
  readonly names?: string;
}

async function send(p: Probe): Promise<{ status: number; json: Record<string, unknown> | undefined; text: string }> {
  const headers: Record<string, string> = {};
  if (p.body !== undefined) headers['content-type'] = p.type ?? 'application/json';
  const res = await fetch(base + p.path, { method: p.method, headers, ...(p.body !== undefined ? { body: p.body } : {}) });
  const text = await res.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

async function expectRejected(p: Probe): Promise<void> {
  const what = `${p.method} ${p.path} ${typeof p.body === 'string' ? p.body.slice(0, 80) : p.body ? `<${p.body.length} octets>` : ''}`;
  const r = await send(p);
  expect(r.status, `${what} → ${r.status} ${r.text.slice(0, 200)}`).toBeGreaterThanOrEqual(400);
  expect(r.status, `${what} → ${r.text.slice(0, 200)}`).toBeLessThan(500);
  expect(r.json, `${what}: JSON body, got ${r.text.slice(0, 200)}`).toBeDefined();
  expect(typeof r.json!.error, what).toBe('string');
  expect(typeof r.json!.message, what).toBe('string');
  expect((r.json!.message as string).length, what).toBeGreaterThan(0);
  if (p.names) expect((r.json!.message as string).toLowerCase(), what).toContain(p.names.toLowerCase());
}

const BAD_PREFIXES = ['10.0.0.1/33', '::/129', '10.0.0.1/24', 'fd00::1/64', '10.0.0.0/-1', '10.0.0/24', '256.0.0.0/8', '10.0.0.0/', '/24', 'fd00:::/64', '10.0.0.0/24/8', '10.0.0.0 /24', '💥/24', 'x'.repeat(65), ''];
const JUNK_SEGMENTS = ['%F0%9F%92%A5', '%E2%80%AE', '%00', '%C0%AF', '..%2F..%2Fetc%2Fpasswd', 'a'.repeat(3000), '%ZZ', '10.0.0.1%2F33', '%3A%3A%2F129', '999.1.1.1', '%EF%BF%BF'];

describe('API fuzzing against a running daemon: 4xx with {error, message}, never a 500, the RIB unchanged', () => {
  it('named bad requests: each rejected with a message that names the problem', async () => {
    const before = ribFingerprint();
    const probes: Probe[] = [
      ...BAD_PREFIXES.map((prefix) => ({ method: 'POST', path: '/api/v1/announcements', body: JSON.stringify({ prefix }), names: prefix.length <= 64 && prefix !== '' ? 'prefix' : undefined })),
      { method: 'POST', path: '/api/v1/announcements', body: JSON.stringify({ prefix: '10.0.0.1/24' }), names: '10.0.0.0/24' }, // did you mean
      { method: 'POST', path: '/api/v1/announcements', body: JSON.stringify({ prefix: 10 }), names: 'prefix' },
      { method: 'POST', path: '/api/v1/announcements', body: JSON.stringify({ prefix: null }), names: 'prefix' },
      { method: 'POST', path: '/api/v1/announcements', body: JSON.stringify({}), names: 'prefix' },
      { method: 'POST', path: '/api/v1/announcements', body: JSON.stringify([]) },
      { method: 'POST', path: '/api/v1/announcements', body: '"10.0.0.0/24"' },
      { method: 'POST', path: '/api/v1/announcements', body: JSON.stringify({ prefix: '10.9.0.0/24', communities: 'x' }), names: 'communities' },
      { method: 'POST', path: '/api/v1/announcements', body: JSON.stringify({ prefix: '10.9.0.0/24', communities: ['no'] }), names: 'communities' },
      { method: 'POST', path: '/api/v1/announcements', body: JSON.stringify({ prefix: '10.9.0.0/24', communities: ['70000:1'] }), names: '70000' },
      { method: 'POST', path: '/api/v1/announcements', body: JSON.stringify({ prefix: '10.9.0.0/24', communities: ['1:99999999999'] }) },
      { method: 'POST', path: '/api/v1/announcements', body: JSON.stringify({ prefix: '10.9.0.0/24', extra: 1 }) },
      { method: 'POST', path: '/api/v1/announcements', body: '{"prefix": "10.9.0.0/24"', names: 'json' },
      { method: 'POST', path: '/api/v1/announcements', body: '{"prefix": "10.9.0.0/24"}', type: 'text/plain' },
      { method: 'POST', path: '/api/v1/announcements', body: 'prefix=10.9.0.0/24', type: 'application/x-www-form-urlencoded' },
      { method: 'POST', path: '/api/v1/announcements', body: JSON.stringify({ prefix: '10.9.0.0/24', pad: 'x'.repeat(200_000) }) },
      { method: 'POST', path: '/api/v1/announcements', body: '['.repeat(100_000) + ']'.repeat(100_000) },
      { method: 'POST', path: '/api/v1/announcements', body: JSON.stringify({ prefix: '10.244.71.0/26' }), names: '10.244.71.0/26' }, // config-owned: conflict
      ...BAD_PREFIXES.filter((p) => p !== '' && p.length <= 64).map((p) => ({ method: 'DELETE', path: `/api/v1/announcements/${encodeURIComponent(p)}` })),
      { method: 'DELETE', path: `/api/v1/announcements/${encodeURIComponent('10.244.71.0/26')}` }, // config-owned
      { method: 'DELETE', path: `/api/v1/announcements/${encodeURIComponent('10.99.0.0/24')}` }, // never announced
      { method: 'POST', path: '/api/v1/peers/127.0.0.99/reset', body: '{}', names: '127.0.0.99' },
      { method: 'POST', path: '/api/v1/peers/127.0.0.72/reset', body: JSON.stringify({ soft: 'sideways' }), names: 'soft' },
      { method: 'POST', path: '/api/v1/peers/not-an-ip/reset', body: '{}' },
      { method: 'POST', path: '/api/v1/peers/127.0.0.72/shutdown', body: JSON.stringify({ message: 'é'.repeat(200) }), names: '255' },
      { method: 'POST', path: '/api/v1/peers/fe80::1/enable' },
      { method: 'GET', path: '/api/v1/peers/127.0.0.99', names: '127.0.0.99' },
      { method: 'GET', path: '/api/v1/peers/10.0.0.1%2F33' },
      { method: 'GET', path: '/api/v1/routes?family=ipv5-unicast', names: 'family' },
      { method: 'GET', path: '/api/v1/routes?prefix=10.0.0.1%2F33', names: 'prefix' },
      { method: 'GET', path: '/api/v1/routes?prefix=%3A%3A%2F129', names: 'prefix' },
      { method: 'GET', path: '/api/v1/routes?match=sideways' },
      { method: 'GET', path: '/api/v1/routes?limit=-5' },
      { method: 'GET', path: '/api/v1/routes?limit=1e99' },
      { method: 'GET', path: '/api/v1/routes?bogus=1' },
      { method: 'GET', path: `/api/v1/routes/${encodeURIComponent('10.0.0.1/33')}/explain`, names: 'prefix' },
      { method: 'GET', path: `/api/v1/routes/${encodeURIComponent('::/129')}/explain`, names: 'prefix' },
      { method: 'GET', path: `/api/v1/routes/${encodeURIComponent('10.99.0.0/24')}/explain` }, // no path: 404
      { method: 'GET', path: '/api/v1/fib?limit=0' },
      { method: 'GET', path: '/api/v1/fib?cursor=' + 'z'.repeat(600) },
      { method: 'GET', path: '/api/v1/fib?state=exploded' },
      { method: 'POST', path: '/api/v1/announcements', body: '' }, // JSON content type, empty body
      { method: 'POST', path: '/api/v1/announcements', body: 'null' },
      { method: 'PUT', path: '/api/v1/status', body: '{}' },
      { method: 'GET', path: '/api/v2/everything' },
    ];
    for (const p of probes) await expectRejected(p);
    // A soft reset of a peer that is not Established: the API's 'unavailable' (503), with its reason.
    const soft = await send({ method: 'POST', path: '/api/v1/peers/127.0.0.72/reset', body: JSON.stringify({ soft: 'in' }) });
    expect(soft).toMatchObject({ status: 503, json: { error: 'unavailable', message: 'peer 127.0.0.72 is not Established' } });
    expect(ribFingerprint()).toBe(before);
  });

  it('unicode and percent junk in every path parameter: 4xx JSON, never a 500', async () => {
    const before = ribFingerprint();
    const templates = ['/api/v1/peers/$', '/api/v1/routes/$/explain', '/api/v1/announcements/$', '/api/v1/peers/$/reset', '/api/v1/peers/$/shutdown', '/api/v1/peers/$/enable', '/api/v1/$', '/$'];
    for (const t of templates)
      for (const seg of JUNK_SEGMENTS) {
        const path = t.replace('$', seg);
        const method = t.includes('reset') || t.includes('shutdown') || t.includes('enable') ? 'POST' : t.includes('announcements') ? 'DELETE' : 'GET';
        await expectRejected({ method, path, ...(method === 'POST' ? { body: '{}' } : {}) });
      }
    expect(ribFingerprint()).toBe(before);
  });

  it('random bodies and random JSON of the wrong shape: rejected, RIB unchanged', async () => {
    const r = prng(0xa91_f00d);
    const before = ribFingerprint();
    const values = (depth: number): unknown => {
      switch (r.int(depth > 2 ? 6 : 8)) {
        case 0: return null;
        case 1: return r.int(2) === 0;
        case 2: return r.pick([0, -1, 1.5, 2 ** 53, -1e308, 33, 129]);
        case 3: return r.pick(BAD_PREFIXES);
        case 4: return r.bytes(r.int(20)).toString('latin1');
        case 5: return r.pick(['in', 'out', '1:1', '65071:1:1', '\u0000', '\ud800']);
        case 6: return Array.from({ length: r.int(4) }, () => values(depth + 1));
        default: return Object.fromEntries(Array.from({ length: r.int(4) }, () => [r.pick(['prefix', 'communities', 'soft', 'message', '__proto__', 'constructor', 'x']), values(depth + 1)]));
      }
    };
    for (let i = 0; i < 300; i++) {
      const kind = r.int(3);
      const body = kind === 0 ? r.bytes(1 + r.int(400)) : kind === 1 ? JSON.stringify(values(0)) : JSON.stringify({ prefix: r.pick(BAD_PREFIXES), communities: values(1) });
      const target = r.pick(['/api/v1/announcements', '/api/v1/peers/127.0.0.99/reset', '/api/v1/peers/127.0.0.99/shutdown', '/api/v1/peers/127.0.0.99/enable']);
      await expectRejected({ method: 'POST', path: target, body, type: r.pick(['application/json', 'application/json; charset=utf-8', 'application/octet-stream', 'text/plain']) });
    }
    expect(ribFingerprint()).toBe(before);
    // The daemon is still healthy and serving.
    const health = await send({ method: 'GET', path: '/healthz' });
    expect(health.status).toBe(200);
  });

  it('random query strings on the read endpoints: a JSON answer, never a 5xx', async () => {
    const r = prng(0x9e7_0001);
    const keys = ['prefix', 'family', 'peer', 'best', 'match', 'limit', 'cursor', 'state', 'x', '', '__proto__', 'prefix[]'];
    const vals = ['', '10.0.0.0%2F8', '10.0.0.1', '%3A%3A', 'fd00%3A%3A%2F129', 'true', 'false', 'maybe', '-1', '0', '1', '99999999999', 'ipv4-unicast', 'ipv6-unicast', 'exact', 'longest', 'subnets', '%00', '%F0%9F%92%A5', '%ZZ', 'a'.repeat(700)];
    const before = ribFingerprint();
    for (let i = 0; i < 300; i++) {
      const q = Array.from({ length: r.int(4) }, () => `${r.pick(keys)}=${r.pick(vals)}`).join('&');
      const path = `${r.pick(['/api/v1/routes', '/api/v1/fib', '/api/v1/peers', '/api/v1/status', '/readyz'])}?${q}`;
      const res = await send({ method: 'GET', path });
      expect(res.status, `${path} → ${res.text.slice(0, 200)}`).toBeLessThan(500);
      expect(res.json, `${path}: JSON body, got ${res.text.slice(0, 200)}`).toBeDefined();
      if (res.status >= 400) expect(typeof res.json!.message, path).toBe('string');
    }
    expect(ribFingerprint()).toBe(before);
  });

  it('a huge body (> 64 KiB) is refused as payload-too-large', async () => {
    const before = ribFingerprint();
    const r = await send({ method: 'POST', path: '/api/v1/announcements', body: JSON.stringify({ prefix: '10.9.0.0/24', pad: 'x'.repeat(5_000_000) }) });
    expect(r.status).toBe(413);
    expect(r.json).toMatchObject({ error: 'payload-too-large', message: expect.any(String) });
    expect(ribFingerprint()).toBe(before);
  });

  it('control: a valid announce changes the fingerprint and a withdraw restores it (the check can see changes)', async () => {
    const before = ribFingerprint();
    const a = await send({ method: 'POST', path: '/api/v1/announcements', body: JSON.stringify({ prefix: '10.9.0.0/24', communities: ['65071:9'] }) });
    expect(a.status).toBe(200);
    expect(ribFingerprint()).not.toBe(before);
    const w = await send({ method: 'DELETE', path: `/api/v1/announcements/${encodeURIComponent('10.9.0.0/24')}` });
    expect(w.status).toBe(200);
    expect(ribFingerprint()).toBe(before);
    expect(log.lines.filter((l) => l.event === 'api-error')).toEqual([]); // no handler failed along the way
  });
});

describe('API bound beyond loopback: junk Authorization headers on writes', () => {
  it('each refused with 401 {error, message}, never a 500, and no action reaches the core', async () => {
    const { deps, calls } = fakeDeps();
    const app = await buildApi(deps, { listen: '192.0.2.1:9179', token: 'robustness-token-0123456789abcdef' });
    try {
      const r = prng(0xa07_4001);
      const headers: (string | undefined)[] = [
        undefined, '', 'Bearer', 'Bearer ', 'bearer robustness-token-0123456789abcdeX', 'Basic cm9vdDpyb290', 'Bearer ' + 'x'.repeat(60_000),
        'Bearer robustness-token-0123456789abcdef extra', 'Bearer\trobustness-token-0123456789abcde', 'Bearer é', 'Bearer \u0000',
        ...Array.from({ length: 40 }, () => 'Bearer ' + r.bytes(1 + r.int(64)).toString('base64')),
      ];
      for (const h of headers) {
        const res = await app.inject({
          method: 'POST',
          url: '/api/v1/announcements',
          payload: { prefix: '10.9.0.0/24' },
          headers: h === undefined ? {} : { authorization: h },
        });
        expect(res.statusCode, JSON.stringify(h)?.slice(0, 80)).toBe(401);
        expect(res.json(), JSON.stringify(h)?.slice(0, 80)).toMatchObject({ error: 'unauthorized', message: expect.any(String) });
      }
      expect(calls.announce).toEqual([]);
      // The right token does get through (the guard is not simply closed).
      const ok = await app.inject({ method: 'POST', url: '/api/v1/announcements', payload: { prefix: '10.9.0.0/24' }, headers: { authorization: 'Bearer robustness-token-0123456789abcdef' } });
      expect(ok.statusCode).toBe(200);
      expect(calls.announce).toEqual([['10.9.0.0/24', []]]);
    } finally {
      await app.close();
    }
  });
});
