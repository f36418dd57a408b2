// Write endpoints: what the API asks the core to do, how the core's refusals
// map to HTTP, that a bad request asks the core nothing, and the bearer-token
// guard (loopback open; beyond loopback missing/wrong/right = 401/401/200).
import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { isLoopback, parseListen, writeGuard } from '../../src/api/auth.js';
import { buildApi, type ApiOptions } from '../../src/api/server.js';
import { fakeDeps } from './fake-deps.js';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function api(deps: Parameters<typeof fakeDeps>[0] = {}, opts: ApiOptions = {}) {
  const f = fakeDeps(deps);
  app = await buildApi(f.deps, { metricsOptions: { defaultMetrics: false }, ...opts });
  return { app, calls: f.calls };
}

const post = (url: string, payload?: object, headers: Record<string, string> = {}) =>
  app!.inject({ method: 'POST', url, ...(payload ? { payload } : {}), headers });

describe('control endpoints ask the core', () => {
  it('announce: canonical prefix and communities; withdraw by URL-encoded prefix', async () => {
    const { calls } = await api();
    const r = await post('/api/v1/announcements', { prefix: '2001:DB8:1::/48', communities: ['64512:100', '64512:1:2'] });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ ok: true });
    await post('/api/v1/announcements', { prefix: '10.244.9.0/24' });
    const d = await app!.inject({ method: 'DELETE', url: `/api/v1/announcements/${encodeURIComponent('10.244.9.0/24')}` });
    expect(d.statusCode).toBe(200);
    expect(calls.announce).toEqual([['2001:db8:1::/48', ['64512:100', '64512:1:2']], ['10.244.9.0/24', []]]);
    expect(calls.withdraw).toEqual(['10.244.9.0/24']);
  });

  it('reset hard and soft, shutdown with a message, enable', async () => {
    const { calls } = await api();
    expect((await post('/api/v1/peers/192.0.2.2/reset')).statusCode).toBe(200);
    expect((await post('/api/v1/peers/192.0.2.2/reset', { soft: 'in' })).statusCode).toBe(200);
    expect((await post('/api/v1/peers/2001:DB8::3/reset', { soft: 'out' })).statusCode).toBe(200);
    expect((await post('/api/v1/peers/192.0.2.2/shutdown', { message: 'maintenance, back at 14:00' })).statusCode).toBe(200);
    expect((await post('/api/v1/peers/192.0.2.2/shutdown')).statusCode).toBe(200);
    expect((await post('/api/v1/peers/192.0.2.2/enable')).statusCode).toBe(200);
    expect(calls.reset).toEqual([['192.0.2.2', undefined], ['192.0.2.2', 'in'], ['2001:db8::3', 'out']]);
    expect(calls.shutdown).toEqual([['192.0.2.2', 'maintenance, back at 14:00'], ['192.0.2.2', undefined]]);
    expect(calls.enable).toEqual(['192.0.2.2']);
  });

  it('reset, shutdown and enable take the description the peers table shows; an unknown name is 404 and asks nothing', async () => {
    const { calls } = await api();
    expect((await post('/api/v1/peers/node-b/reset', { soft: 'in' })).statusCode).toBe(200);
    expect((await post('/api/v1/peers/node-b/shutdown')).statusCode).toBe(200);
    expect((await post('/api/v1/peers/node-b/enable')).statusCode).toBe(200);
    const r = await post('/api/v1/peers/banana/reset');
    expect(r.statusCode).toBe(404);
    expect(r.json().message).toMatch(/no peer "banana": neither an address nor the description/);
    expect(calls.reset).toEqual([['192.0.2.2', 'in']]);
    expect(calls.shutdown).toEqual([['192.0.2.2', undefined]]);
    expect(calls.enable).toEqual(['192.0.2.2']);
  });

  it('config reload: 200 with the changes, 422 with the errors when rejected', async () => {
    const { calls } = await api();
    const ok = await post('/api/v1/config/reload');
    expect(ok.json()).toEqual({ ok: true, changes: ['192.0.2.2: soft-out'] });
    await app!.close();
    await api({ reload: { ok: false, errors: ['neighbors[0].asn: must be 1..4294967295 (line 4)'] } });
    const bad = await post('/api/v1/config/reload');
    expect(bad.statusCode).toBe(422);
    expect(bad.json()).toMatchObject({ error: 'config-invalid', errors: ['neighbors[0].asn: must be 1..4294967295 (line 4)'] });
    expect(calls.reload).toBe(1);
  });

  it.each([
    ['not-found', 404],
    ['conflict', 409],
    ['invalid', 400],
    ['unavailable', 503],
  ] as const)('core refusal %s -> %d with its message', async (error, status) => {
    await api({ result: { ok: false, error, message: `core says ${error}` } });
    const r = await post('/api/v1/peers/192.0.2.9/reset');
    expect(r.statusCode).toBe(status);
    expect(r.json()).toEqual({ error, message: `core says ${error}` });
  });
});

describe('bad requests never reach the core', () => {
  it.each([
    ['POST', '/api/v1/announcements', { prefix: '10.244.1.1/26' }, /prefix/],
    ['POST', '/api/v1/announcements', { prefix: '10.244.1.0/26', communities: ['no-export'] }, /communities/],
    ['POST', '/api/v1/announcements', { prefix: '10.244.1.0/26', colour: 'red' }, /additional properties/],
    ['POST', '/api/v1/announcements', {}, /prefix/],
    ['POST', '/api/v1/announcements', { prefix: '10.244.1.7' }, /is an address; write the prefix \(10\.244\.1\.7\/32\)/],
    ['POST', '/api/v1/peers/192.0.2.2/reset', { soft: 'sideways' }, /^body \/soft: must be one of "in", "out"$/],
    ['POST', '/api/v1/peers/192.0.2.2/shutdown', { message: 'é'.repeat(128) }, /255 octets/],
    ['DELETE', `/api/v1/announcements/10.244.1.7`, undefined, /is an address/],
  ] as const)('%s %s %j -> 400', async (method, url, payload, message) => {
    const { calls } = await api();
    const r = await app!.inject({ method, url, ...(payload ? { payload } : {}) });
    expect(r.statusCode).toBe(400);
    expect(r.json().error).toBe('bad-request');
    expect(r.json().message).toMatch(message);
    expect([...calls.announce, ...calls.withdraw, ...calls.reset, ...calls.shutdown]).toEqual([]);
  });

  it('malformed JSON is a 400 JSON error', async () => {
    const { calls } = await api();
    const r = await app!.inject({ method: 'POST', url: '/api/v1/announcements', payload: '{"prefix":', headers: { 'content-type': 'application/json' } });
    expect(r.statusCode).toBe(400);
    expect(r.json()).toMatchObject({ error: 'bad-request' });
    expect(calls.announce).toEqual([]);
  });
});

describe('write authorisation', () => {
  const TOKEN = 'correct-horse-battery-staple';

  it('bound to loopback (the default): writes need no token', async () => {
    await api();
    expect((await post('/api/v1/peers/192.0.2.2/enable')).statusCode).toBe(200);
    await app!.close();
    await api({}, { listen: '[::1]:9179', token: TOKEN });
    expect((await post('/api/v1/peers/192.0.2.2/enable')).statusCode).toBe(200);
  });

  it('bound beyond loopback: missing/wrong/right token = 401/401/200; reads stay open', async () => {
    const { calls } = await api({}, { listen: '0.0.0.0:9179', token: TOKEN });
    const missing = await post('/api/v1/announcements', { prefix: '10.244.9.0/24' });
    expect(missing.statusCode).toBe(401);
    expect(missing.headers['www-authenticate']).toBe('Bearer');
    expect(missing.json()).toMatchObject({ error: 'unauthorized' });
    const wrong = await post('/api/v1/announcements', { prefix: '10.244.9.0/24' }, { authorization: `Bearer ${TOKEN}x` });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().message).toBe('invalid token');
    const basic = await post('/api/v1/announcements', { prefix: '10.244.9.0/24' }, { authorization: `Basic ${TOKEN}` });
    expect(basic.statusCode).toBe(401);
    expect(calls.announce).toEqual([]);
    const right = await post('/api/v1/announcements', { prefix: '10.244.9.0/24' }, { authorization: `Bearer ${TOKEN}` });
    expect(right.statusCode).toBe(200);
    expect(calls.announce).toEqual([['10.244.9.0/24', []]]);
    // The guard runs before validation: an unauthenticated bad request is 401, not 400.
    expect((await post('/api/v1/announcements', { prefix: 'junk' })).statusCode).toBe(401);
    expect((await app!.inject('/api/v1/peers')).statusCode).toBe(200);
    expect((await app!.inject('/metrics')).statusCode).toBe(200);
  });

  it('beyond loopback without a configured token: every write refused', async () => {
    const { calls } = await api({}, { listen: '192.0.2.1:9179' });
    const r = await post('/api/v1/config/reload', undefined, { authorization: 'Bearer anything-at-all' });
    expect(r.statusCode).toBe(401);
    expect(r.json().message).toMatch(/no api.token is configured/);
    expect(calls.reload).toBe(0);
  });

  it('listen parsing and loopback detection', () => {
    expect(parseListen('127.0.0.1:9179')).toEqual({ host: '127.0.0.1', port: 9179 });
    expect(parseListen('[::]:80')).toEqual({ host: '::', port: 80 });
    expect(parseListen('none')).toBeUndefined();
    expect(() => parseListen('9179')).toThrow(/host:port/);
    expect(() => parseListen('::1:9179')).toThrow();
    for (const h of ['127.0.0.1', '127.9.8.7', '::1', '::ffff:127.0.0.1', 'localhost']) expect(isLoopback(h)).toBe(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.1', '128.0.0.1', '::ffff:10.0.0.1', 'example.com']) expect(isLoopback(h)).toBe(false);
    expect(writeGuard('10.0.0.1', 'abc').check('Bearer abc')).toEqual({ ok: true });
    expect(writeGuard('10.0.0.1', 'abc').check('bearer  abc ')).toEqual({ ok: true });
    expect(writeGuard('10.0.0.1', 'abc').check('Bearer ab').ok).toBe(false);
  });
});
