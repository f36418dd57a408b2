// RFC 4456 §6 advertise table, §8 rewrite and loop checks.
import { describe, expect, it } from 'vitest';
import { isReflection, reflectAttributes, reflectionLoop, shouldAdvertise, type RouteSource } from '../../src/rib/reflect.js';
import type { PathAttributes } from '../../src/bgp/wire/types.js';

const ebgp: RouteSource = { ibgp: false, rrClient: false, local: false };
const local: RouteSource = { ibgp: false, rrClient: false, local: true };
const client: RouteSource = { ibgp: true, rrClient: true, local: false };
const nonClient: RouteSource = { ibgp: true, rrClient: false, local: false };
const toEbgp = { ibgp: false, rrClient: false };
const toClient = { ibgp: true, rrClient: true };
const toNonClient = { ibgp: true, rrClient: false };

const RR = { isReflector: true, clientToClient: true };
const RR_NO_C2C = { isReflector: true, clientToClient: false };
const MESH = { isReflector: false, clientToClient: true };

describe('shouldAdvertise (RFC 4456 §6)', () => {
  // [source, target, reflector, reflector without client-to-client, full mesh]
  const table: [string, RouteSource, { ibgp: boolean; rrClient: boolean }, boolean, boolean, boolean][] = [
    ['eBGP → eBGP', ebgp, toEbgp, true, true, true],
    ['eBGP → client', ebgp, toClient, true, true, true],
    ['eBGP → non-client', ebgp, toNonClient, true, true, true],
    ['local → eBGP', local, toEbgp, true, true, true],
    ['local → client', local, toClient, true, true, true],
    ['local → non-client', local, toNonClient, true, true, true],
    ['client → eBGP', client, toEbgp, true, true, true],
    ['client → client', client, toClient, true, false, false],
    ['client → non-client', client, toNonClient, true, true, false],
    ['non-client → eBGP', nonClient, toEbgp, true, true, true],
    ['non-client → client', nonClient, toClient, true, true, false],
    ['non-client → non-client', nonClient, toNonClient, false, false, false],
  ];
  for (const [name, src, dst, rr, rrNoC2c, mesh] of table) {
    it(name, () => {
      expect(shouldAdvertise(src, dst, RR)).toBe(rr);
      expect(shouldAdvertise(src, dst, RR_NO_C2C)).toBe(rrNoC2c);
      expect(shouldAdvertise(src, dst, MESH)).toBe(mesh);
    });
  }

  it('the rewrite applies only to iBGP → iBGP', () => {
    expect(isReflection(client, toNonClient)).toBe(true);
    expect(isReflection(nonClient, toClient)).toBe(true);
    expect(isReflection(client, toEbgp)).toBe(false);
    expect(isReflection(ebgp, toClient)).toBe(false);
    expect(isReflection(local, toClient)).toBe(false);
  });
});

describe('reflectAttributes (RFC 4456 §8)', () => {
  const attrs: PathAttributes = { origin: 0, asPath: [], nextHop: '10.0.0.1', localPref: 100 };

  it('sets ORIGINATOR_ID from the source when absent and creates CLUSTER_LIST', () => {
    const out = reflectAttributes(attrs, 0x0a000001, 0xc0000201);
    expect(out.originatorId).toBe(0x0a000001);
    expect(out.clusterList).toEqual([0xc0000201]);
    expect(out.localPref).toBe(100);
    expect(attrs.clusterList).toBeUndefined(); // input untouched
  });

  it('keeps an existing ORIGINATOR_ID and prepends our cluster ID', () => {
    const out = reflectAttributes({ ...attrs, originatorId: 0x0a000009, clusterList: [0xc0000202] }, 0x0a000001, 0xc0000201);
    expect(out.originatorId).toBe(0x0a000009);
    expect(out.clusterList).toEqual([0xc0000201, 0xc0000202]);
  });

  it('handles IDs with the top bit set as unsigned', () => {
    expect(reflectAttributes(attrs, 0xfe000001 | 0, 0xff000001 | 0)).toMatchObject({ originatorId: 0xfe000001, clusterList: [0xff000001] });
  });
});

describe('reflectionLoop (RFC 4456 §8)', () => {
  const routerId = 0xc0000201;
  const clusterId = 0xc0000264;
  it('detects our router ID as ORIGINATOR_ID', () => {
    expect(reflectionLoop({ originatorId: routerId }, routerId, undefined)).toBe('originator-id-is-self');
    expect(reflectionLoop({ originatorId: routerId + 1 }, routerId, undefined)).toBeUndefined();
  });
  it('detects our cluster ID anywhere in CLUSTER_LIST, only when we reflect', () => {
    expect(reflectionLoop({ clusterList: [1, clusterId, 2] }, routerId, clusterId)).toBe('cluster-loop');
    expect(reflectionLoop({ clusterList: [1, 2] }, routerId, clusterId)).toBeUndefined();
    expect(reflectionLoop({ clusterList: [clusterId] }, routerId, undefined)).toBeUndefined();
  });
  it('a reflected route coming back is caught by the cluster check', () => {
    const back = reflectAttributes({ origin: 0 }, 0x0a000001, clusterId);
    expect(reflectionLoop(back, routerId, clusterId)).toBe('cluster-loop');
  });
});
