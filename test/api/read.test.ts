// Read endpoints through inject(): shapes, canonicalisation of what the user
// typed, 4xx bodies, and that secrets never leave the daemon.
import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../../src/api/server.js';
import { fakeDeps } from './fake-deps.js';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function api(opts: Parameters<typeof fakeDeps>[0] = {}) {
  const f = fakeDeps(opts);
  app = await buildApi(f.deps, { metricsOptions: { defaultMetrics: false } });
  return { app, calls: f.calls };
}

describe('GET /api/v1/status and peers', () => {
  it('status carries router ID, ASN, uptime, version and counts', async () => {
    const { app } = await api();
    const r = await app.inject('/api/v1/status');
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ routerId: '192.0.2.1', asn: 64512, version: '0.1.0', uptimeSeconds: 61, peers: { established: 1 }, routes: { 'ipv4-unicast': 10 } });
  });

  it('peers lists the contract fields: address, asn, state, uptimeSeconds, prefixes', async () => {
    const { app } = await api();
    const body = (await app.inject('/api/v1/peers')).json() as { peers: Record<string, unknown>[] };
    expect(body.peers).toHaveLength(2);
    expect(body.peers[0]).toMatchObject({ address: '192.0.2.2', asn: 64512, state: 'Established', uptimeSeconds: 3725, prefixes: { received: 12, accepted: 10, advertised: 3 } });
    expect(body.peers[1]).toMatchObject({ address: '2001:db8::3', state: 'Active', lastError: 'connect-failed: ECONNREFUSED' });
  });

  it('one peer by address; an IPv6 address is canonicalised (RFC 5952) before lookup', async () => {
    const { app } = await api();
    expect((await app.inject('/api/v1/peers/192.0.2.2')).json()).toMatchObject({ address: '192.0.2.2', holdTime: { negotiated: 90 } });
    const v6 = await app.inject('/api/v1/peers/2001:DB8:0::3');
    expect(v6.statusCode).toBe(200);
    expect(v6.json()).toMatchObject({ address: '2001:db8::3' });
  });

  it('unknown peer: 404 with {error, message}, for an address and for a name no peer has', async () => {
    const { app } = await api();
    const nf = await app.inject('/api/v1/peers/192.0.2.99');
    expect(nf.statusCode).toBe(404);
    expect(nf.json()).toEqual({ error: 'not-found', message: 'no peer 192.0.2.99' });
    const bad = await app.inject('/api/v1/peers/not-a-peer');
    expect(bad.statusCode).toBe(404);
    expect(bad.json()).toEqual({ error: 'not-found', message: 'no peer "not-a-peer": neither an address nor the description of a peer' });
  });

  it('a peer by its description, as the peers table shows it', async () => {
    const { app } = await api();
    const r = await app.inject('/api/v1/peers/node-b');
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ address: '192.0.2.2', description: 'node-b' });
  });
});

describe('GET /api/v1/routes', () => {
  it('passes validated, defaulted filters to the core and returns the page with its cursor', async () => {
    const { app, calls } = await api();
    const r = await app.inject('/api/v1/routes?family=ipv4-unicast&peer=192.0.2.2&best=true&limit=50&cursor=abc');
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ routes: [expect.objectContaining({ prefix: '10.244.1.0/26', best: true })], nextCursor: 'c2' });
    expect(calls.routes).toEqual([{ family: 'ipv4-unicast', peer: '192.0.2.2', best: true, limit: 50, cursor: 'abc' }]);
  });

  it('default limit 100; a prefix means exact match, a bare address longest match', async () => {
    const { app, calls } = await api();
    await app.inject('/api/v1/routes');
    await app.inject('/api/v1/routes?prefix=10.244.1.0/26');
    await app.inject('/api/v1/routes?prefix=10.244.1.7');
    await app.inject('/api/v1/routes?prefix=2001:DB8::/32&match=subnets');
    expect(calls.routes).toEqual([
      { limit: 100 },
      { prefix: '10.244.1.0/26', match: 'exact', limit: 100 },
      { prefix: '10.244.1.7/32', match: 'longest', limit: 100 },
      { prefix: '2001:db8::/32', match: 'subnets', limit: 100 },
    ]);
  });

  it.each([
    ['prefix=10.244.1.1/26', /host bits set; did you mean 10\.244\.1\.0\/26/],
    ['prefix=banana', /neither a prefix nor an address/],
    ['prefix=10.0.0.0/8&family=ipv6-unicast', /is not ipv6-unicast/],
    ['match=longest', /match needs a prefix/],
    ['peer=nope', /peer: "nope" is not an address/],
    ['family=ipv4-multicast', /^querystring \/family: must be one of "ipv4-unicast", "ipv6-unicast"$/],
    ['limit=0', /limit/],
    ['limit=10001', /limit/],
    ['best=maybe', /best/],
    ['colour=blue', /additional properties/],
  ])('%s -> 400 naming the problem, the core is never asked', async (query, message) => {
    const { app, calls } = await api();
    const r = await app.inject(`/api/v1/routes?${query}`);
    expect(r.statusCode).toBe(400);
    expect(r.json().error).toBe('bad-request');
    expect(r.json().message).toMatch(message);
    expect(calls.routes).toEqual([]);
  });
});

describe('GET /api/v1/routes/:prefix/explain', () => {
  it('takes a URL-encoded prefix and returns every candidate with the deciding step in words', async () => {
    const { app, calls } = await api();
    const r = await app.inject(`/api/v1/routes/${encodeURIComponent('10.244.1.0/26')}/explain`);
    expect(r.statusCode).toBe(200);
    const body = r.json();
    expect(body.reason).toBe('local-pref');
    expect(body.candidates.map((c: { status: string }) => c.status)).toEqual(['best', 'lost']);
    expect(body.candidates[1].text).toMatch(/lost at local-pref/);
    const v6 = await app.inject(`/api/v1/routes/${encodeURIComponent('2001:DB8:1::/48')}/explain`);
    expect(v6.statusCode).toBe(200);
    expect(calls.explain).toEqual(['10.244.1.0/26', '2001:db8:1::/48']);
  });

  it('unknown prefix 404; an address or garbage 400', async () => {
    const { app } = await api();
    expect((await app.inject(`/api/v1/routes/${encodeURIComponent('10.9.0.0/16')}/explain`)).statusCode).toBe(404);
    const addr = await app.inject('/api/v1/routes/10.244.1.7/explain');
    expect(addr.statusCode).toBe(400);
    expect(addr.json().message).toMatch(/is an address/);
    expect((await app.inject('/api/v1/routes/zzz/explain')).statusCode).toBe(400);
  });
});

describe('GET /api/v1/fib and /api/v1/config', () => {
  it('fib reports the mode, counts and a page of routes, filtered by state', async () => {
    const { app } = await api();
    const r = await app.inject('/api/v1/fib?state=failed');
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ mode: 'dry-run', reconciled: true, counts: { installed: 42 }, routes: [{ state: 'failed' }] });
    expect((await app.inject('/api/v1/fib?state=gone')).statusCode).toBe(400);
  });

  it('config masks every password and token but keeps the rest', async () => {
    const { app } = await api();
    const r = await app.inject('/api/v1/config');
    expect(r.statusCode).toBe(200);
    expect(r.body).not.toContain('md5-secret');
    expect(r.body).not.toContain('a-very-secret-token-123');
    expect(r.json()).toMatchObject({
      routerId: '192.0.2.1',
      neighbors: [{ address: '192.0.2.2', password: '********' }],
      api: { token: '********', tokenFile: '/etc/bgp-ts/token' },
    });
  });
});

describe('health and errors', () => {
  it('/healthz is 200; /readyz is 200 when ready and 503 with the reasons when not', async () => {
    expect((await (await api()).app.inject('/healthz')).json()).toMatchObject({ status: 'ok' });
    expect((await app!.inject('/readyz')).json()).toEqual({ ready: true, reasons: [] });
    await app!.close();
    const { app: notReady } = await api({ ready: false });
    const r = await notReady.inject('/readyz');
    expect(r.statusCode).toBe(503);
    expect(r.json()).toEqual({ ready: false, reasons: ['peer 2001:db8::3 is Active beyond its grace period'] });
  });

  it('/readyz says when the FIB is a dry run, in notes, without holding readiness back (issue 13)', async () => {
    const f = fakeDeps();
    const stats = f.deps.fibStats();
    f.deps.fibStats = () => ({ ...stats, mode: 'dry-run', reason: 'not root and no CAP_NET_ADMIN' });
    app = await buildApi(f.deps, { metricsOptions: { defaultMetrics: false } });
    const r = await app.inject('/readyz');
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ ready: true, reasons: [], notes: ['the FIB is in dry run (not root and no CAP_NET_ADMIN): kernel routes are not written'] });
    await app.close();
    const k = fakeDeps();
    k.deps.fibStats = () => ({ ...stats, mode: 'kernel' });
    app = await buildApi(k.deps, { metricsOptions: { defaultMetrics: false } });
    expect((await app.inject('/readyz')).json()).toEqual({ ready: true, reasons: [] });
  });

  it('unknown path: 404 JSON', async () => {
    const { app } = await api();
    const r = await app.inject('/api/v2/peers');
    expect(r.statusCode).toBe(404);
    expect(r.json()).toEqual({ error: 'not-found', message: 'no route GET /api/v2/peers' });
  });

  it('a core failure is a 500 without internals', async () => {
    const f = fakeDeps();
    f.deps.status = () => {
      throw new Error('secret internals');
    };
    app = await buildApi(f.deps, { metricsOptions: { defaultMetrics: false } });
    const r = await app.inject('/api/v1/status');
    expect(r.statusCode).toBe(500);
    expect(r.body).not.toContain('secret internals');
    expect(r.json().error).toBe('internal');
  });
});
