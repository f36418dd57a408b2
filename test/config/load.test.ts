// The loader: every kind of mistake yields its path and a plain-English message,
// defaults are applied, YAML syntax errors carry a location, secrets stay secret.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { closestKey, formatConfigErrors, loadConfigFile, parseConfig, type ConfigResult } from '../../src/config/load.js';

const BASE = 'routerId: 192.0.2.1\nasn: 64512\n';

function errorsOf(text: string): string[] {
  const r = parseConfig(text);
  if (r.ok) throw new Error(`expected errors, config was accepted: ${JSON.stringify(r.config)}`);
  return formatConfigErrors(r.errors);
}

function ok(text: string): Extract<ConfigResult, { ok: true }> {
  const r = parseConfig(text);
  if (!r.ok) throw new Error(formatConfigErrors(r.errors).join('\n'));
  return r;
}

const neighbor = (extra: string) => `${BASE}neighbors:\n  - address: 192.0.2.2\n    asn: 64512\n${extra}`;

describe('parseConfig: defaults', () => {
  it('fills in every default of a minimal config', () => {
    const { config, warnings } = ok(BASE);
    expect(warnings).toEqual([]);
    expect(config.listen).toEqual({ addresses: ['0.0.0.0', '::'], port: 179, enabled: true });
    expect(config.neighbors).toEqual([]);
    expect(config.fib).toEqual({ enabled: true, dryRun: false, table: 254, protocol: 201, ecmp: 8, manageTunnel: false, defaultMode: 'direct' });
    expect(config.api).toEqual({ listen: '127.0.0.1:9179' });
    expect(config.log).toEqual({ level: 'info' });
    expect(config.clientToClientReflection).toBe(true);
  });

  it('fills in neighbor defaults and keeps given values', () => {
    const { config } = ok(neighbor('    holdTime: 30\n'));
    const n = config.neighbors[0]!;
    expect(n).toMatchObject({
      port: 179, passive: false, connectRetryTime: 5, shutdown: false, routeReflectorClient: false,
      nextHopMode: 'auto', holdTime: 30, families: ['ipv4-unicast', 'ipv6-unicast'],
    });
  });

  it('fills in nested object defaults (gracefulRestart, maxPrefix)', () => {
    const { config } = ok(neighbor('    gracefulRestart: {}\n    maxPrefix: { limit: 10 }\n'));
    expect(config.neighbors[0]!.gracefulRestart).toEqual({ enabled: true, restartTime: 120 });
    expect(config.neighbors[0]!.maxPrefix).toEqual({ limit: 10, action: 'close' });
  });

  it('returns a deeply frozen config', () => {
    const { config } = ok(neighbor(''));
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.neighbors[0]!.families)).toBe(true);
    expect(() => {
      (config.neighbors[0] as { asn: number }).asn = 1;
    }).toThrow(TypeError);
  });
});

describe('parseConfig: schema errors in plain English', () => {
  it('missing required properties', () => {
    expect(errorsOf('asn: 64512\n')).toEqual(['routerId: required, but missing']);
    expect(errorsOf(`${BASE}neighbors:\n  - asn: 64512\n`)).toEqual(['neighbors[0].address: required, but missing (line 4)']);
  });

  it('unknown property, with the likely intended key', () => {
    expect(errorsOf(`${BASE}nieghbors: []\n`)).toEqual(['(top level): unknown property "nieghbors" (did you mean "neighbors"?) (line 3)']);
    expect(errorsOf(neighbor('    pasword: x\n'))).toEqual(['neighbors[0]: unknown property "pasword" (did you mean "password"?) (line 6)']);
    expect(errorsOf(`${BASE}router_id: 1\n`)).toEqual(['(top level): unknown property "router_id" (did you mean "routerId"?) (line 3)']);
    expect(errorsOf(`${BASE}frobnicate: 1\n`)).toEqual(['(top level): unknown property "frobnicate" (line 3)']);
  });

  it('wrong types', () => {
    expect(errorsOf('routerId: 192.0.2.1\nasn: "x"\n')).toEqual(['asn: must be a number, got a string (line 2)']);
    expect(errorsOf(`${BASE}neighbors: {}\n`)).toEqual(['neighbors: must be a list, got a mapping (line 3)']);
    expect(errorsOf(`${BASE}api: []\n`)).toEqual(['api: must be a mapping, got a list (line 3)']);
    expect(errorsOf(`${BASE}fib: 3\n`)).toEqual(['fib: must be a mapping, got a number (line 3)']);
    expect(errorsOf(neighbor('    passive: yes\n'))).toEqual(['neighbors[0].passive: must be true or false, got a string (line 6)']);
    expect(errorsOf(neighbor('    holdTime: 1.5\n'))).toEqual(['neighbors[0].holdTime: must be a whole number (line 6)']);
    expect(errorsOf(neighbor('    description: 5\n'))).toEqual(['neighbors[0].description: must be a string, got a number (line 6)']);
  });

  it('out of range', () => {
    expect(errorsOf(`${BASE}neighbors:\n  - { address: 192.0.2.2, asn: 4294967296 }\n  - { address: 192.0.2.3, asn: 0 }\n`)).toEqual([
      'neighbors[0].asn: must be 1..4294967295 (line 4)',
      'neighbors[1].asn: must be 1..4294967295 (line 5)',
    ]);
    expect(errorsOf(neighbor('    maxPrefix: { limit: 0 }\n'))).toEqual(['neighbors[0].maxPrefix.limit: must be at least 1 (line 6)']);
    expect(errorsOf(neighbor('    password: ""\n'))).toEqual(['neighbors[0].password: must not be empty (line 6)']);
    expect(errorsOf(neighbor(`    password: ${'x'.repeat(81)}\n`))).toEqual(['neighbors[0].password: must be at most 80 characters (line 6)']);
    expect(errorsOf(neighbor('    families: []\n'))).toEqual(['neighbors[0].families: must not be empty (line 6)']);
    expect(errorsOf(neighbor('    families: [ipv4-unicast, ipv4-unicast]\n'))).toEqual([
      'neighbors[0].families: must not list the same entry twice (line 6)',
    ]);
  });

  it('bad formats: addresses and prefixes', () => {
    expect(errorsOf('routerId: 2001:db8::1\nasn: 1\n')).toEqual(['routerId: "2001:db8::1" is not an IPv4 address (line 1)']);
    expect(errorsOf(`${BASE}neighbors: [{ address: 192.0.2.300, asn: 1 }]\n`)).toEqual([
      'neighbors[0].address: "192.0.2.300" is not an IP address (line 3)',
    ]);
    expect(errorsOf(`${BASE}originate: [{ prefix: 10.244.1.1/26 }]\n`)).toEqual([
      'originate[0].prefix: "10.244.1.1/26" is not a prefix (host bits set? did you mean 10.244.1.0/26) (line 3)',
    ]);
    expect(errorsOf(`${BASE}ipPools:\n  - cidr: 2001:db8::1/64\n`)).toEqual([
      'ipPools[0].cidr: "2001:db8::1/64" is not a prefix (host bits set? did you mean 2001:db8::/64) (line 4)',
    ]);
    expect(errorsOf(`${BASE}serviceCidrs: [10.96.0.0]\n`)).toEqual([
      'serviceCidrs[0]: "10.96.0.0" is not a prefix (expected address/length, e.g. 10.244.1.0/26) (line 3)',
    ]);
    expect(errorsOf(`${BASE}originate: [{ prefix: 10.0.0.0/33 }]\n`)).toEqual([
      'originate[0].prefix: "10.0.0.0/33" is not a prefix (expected address/length, e.g. 10.244.1.0/26) (line 3)',
    ]);
  });

  it('not one of the allowed values lists them', () => {
    expect(errorsOf(neighbor('    nextHopMode: next-hop-self\n'))).toEqual([
      'neighbors[0].nextHopMode: "next-hop-self" is not one of the allowed values: auto, self, keep (line 6)',
    ]);
    expect(errorsOf(`${BASE}ipPools: [{ cidr: 10.244.0.0/16, mode: vxlan }]\n`)).toEqual([
      'ipPools[0].mode: "vxlan" is not one of the allowed values: ipip, direct, crossSubnet (line 3)',
    ]);
  });

  it('pattern mismatch names the expected form', () => {
    expect(errorsOf(`${BASE}originate: [{ prefix: 10.244.1.0/26, communities: ["64512"] }]\n`)).toEqual([
      'originate[0].communities[0]: "64512" is not valid: expected "aa:nn" or large "aa:nn:mm" (line 3)',
    ]);
  });

  it('reports every mistake at once, in source order', () => {
    const lines = errorsOf('asn: 0\nrouterId: 0.0.0\nlog: { level: loud }\n');
    expect(lines).toEqual([
      'asn: must be 1..4294967295 (line 1)',
      'routerId: "0.0.0" is not an IPv4 address (line 2)',
      'log.level: "loud" is not one of the allowed values: fatal, error, warn, info, debug, trace, silent (line 3)',
    ]);
  });
});

describe('parseConfig: YAML syntax', () => {
  it('names line and column', () => {
    const r = parseConfig('routerId: 192.0.2.1\nneighbors: [1, 2\nasn: 1\n');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors[0]!.line).toBe(3);
    expect(formatConfigErrors(r.errors)[0]).toMatch(/^line 3, column 1: /);
  });

  it('rejects duplicate keys', () => {
    expect(errorsOf('asn: 1\nasn: 2\n')[0]).toMatch(/^line 2, column 1: .*unique/);
  });

  it('rejects an empty file and a non-mapping document', () => {
    expect(errorsOf('')).toEqual(['(top level): the config is empty']);
    expect(errorsOf('# only a comment\n')).toEqual(['(top level): the config is empty']);
    expect(errorsOf('- a\n- b\n')).toEqual(['(top level): the config must be a mapping of keys (routerId, asn, ...)']);
  });
});

describe('parseConfig: semantic checks', () => {
  it('duplicate neighbor addresses, IPv6 compared canonically', () => {
    expect(errorsOf(`${BASE}neighbors:\n  - { address: "2001:db8::1", asn: 1 }\n  - { address: "2001:DB8:0::1", asn: 2 }\n`)).toEqual([
      'neighbors[1].address: 2001:db8::1 is already configured as neighbors[0] (line 5)',
    ]);
  });

  it('a neighbor inside a listen range is allowed', () => {
    ok(`${BASE}neighbors: [{ address: 192.0.2.2, asn: 64512 }]\nlistenRanges: [{ prefix: 192.0.2.0/24, asn: 64512 }]\n`);
  });

  it('identical listen ranges are rejected', () => {
    expect(errorsOf(`${BASE}listenRanges:\n  - { prefix: 192.0.2.0/24, asn: 1 }\n  - { prefix: 192.0.2.0/24, asn: 2 }\n`)).toEqual([
      'listenRanges[1].prefix: 192.0.2.0/24 is already listed as listenRanges[0] (line 5)',
    ]);
  });

  it('hold time 1 or 2 is rejected (RFC 4271 §4.2); 0 and 3 are fine', () => {
    expect(errorsOf(neighbor('    holdTime: 2\n'))).toEqual(['neighbors[0].holdTime: must be 0 or at least 3 (RFC 4271 §4.2) (line 6)']);
    expect(errorsOf(`${BASE}listenRanges: [{ prefix: 192.0.2.0/24, asn: 1, holdTime: 1 }]\n`)).toEqual([
      'listenRanges[0].holdTime: must be 0 or at least 3 (RFC 4271 §4.2) (line 3)',
    ]);
    ok(neighbor('    holdTime: 0\n'));
    ok(neighbor('    holdTime: 3\n'));
  });

  it('keepaliveTime must be below holdTime; with holdTime 0 it only warns', () => {
    expect(errorsOf(neighbor('    holdTime: 30\n    keepaliveTime: 30\n'))).toEqual([
      'neighbors[0].keepaliveTime: must be less than holdTime (30) (line 7)',
    ]);
    const r = ok(neighbor('    holdTime: 0\n    keepaliveTime: 10\n'));
    expect(formatConfigErrors(r.warnings)).toEqual(['neighbors[0].keepaliveTime: has no effect with holdTime 0 (no keepalives are sent) (line 7)']);
  });

  it('clusterId without route reflector clients warns', () => {
    const r = ok(`${BASE}clusterId: 192.0.2.1\n`);
    expect(formatConfigErrors(r.warnings)).toEqual([
      'clusterId: no neighbor or listen range is a routeReflectorClient: the cluster ID has no effect (line 3)',
    ]);
    expect(ok(`${BASE}clusterId: 192.0.2.1\n` + neighbor('    routeReflectorClient: true\n').slice(BASE.length)).warnings).toEqual([]);
  });

  it('route reflector clients must be iBGP', () => {
    expect(errorsOf(`${BASE}neighbors: [{ address: 192.0.2.2, asn: 65000, routeReflectorClient: true }]\n`)).toEqual([
      'neighbors[0].routeReflectorClient: only iBGP neighbors can be route reflector clients (asn 65000 != local 64512) (line 3)',
    ]);
  });

  it('routerId and clusterId 0.0.0.0 are rejected', () => {
    expect(errorsOf('routerId: 0.0.0.0\nasn: 1\n')).toEqual(['routerId: must not be 0.0.0.0 (RFC 6286 §2.1: a non-zero BGP Identifier) (line 1)']);
  });

  it('overlapping ipPools are rejected, disjoint ones accepted', () => {
    expect(errorsOf(`${BASE}ipPools:\n  - { cidr: 10.244.0.0/16 }\n  - { cidr: 10.244.128.0/17 }\n  - { cidr: "fd00::/48" }\n  - { cidr: "fd00:0:0:1::/64" }\n`)).toEqual([
      'ipPools[1].cidr: 10.244.128.0/17 overlaps ipPools[0] (10.244.0.0/16) (line 5)',
      'ipPools[3].cidr: fd00:0:0:1::/64 overlaps ipPools[2] (fd00::/48) (line 7)',
    ]);
    ok(`${BASE}ipPools:\n  - { cidr: 10.244.0.0/16 }\n  - { cidr: 10.245.0.0/16 }\n  - { cidr: "fd00::/48" }\n  - { cidr: "fd00:0:1::/48" }\n`);
  });

  it('originate: duplicates rejected, prefixes outside every pool warned, community ranges checked', () => {
    expect(errorsOf(`${BASE}originate:\n  - { prefix: 10.244.1.0/26 }\n  - { prefix: 10.244.1.0/26 }\n`)).toEqual([
      'originate[1].prefix: 10.244.1.0/26 is already originated by originate[0] (line 5)',
    ]);
    const r = ok(`${BASE}ipPools: [{ cidr: 10.244.0.0/16 }]\noriginate:\n  - { prefix: 10.244.1.0/26 }\n  - { prefix: 10.0.0.0/8 }\n`);
    expect(formatConfigErrors(r.warnings)).toEqual(['originate[1].prefix: 10.0.0.0/8 lies outside every ipPool (line 6)']);
    expect(errorsOf(`${BASE}originate: [{ prefix: 10.244.1.0/26, communities: ["70000:1"] }]\n`)).toEqual([
      'originate[0].communities[0]: "70000:1": each half must be 0..65535 (RFC 1997) (line 3)',
    ]);
    ok(`${BASE}originate: [{ prefix: 10.244.1.0/26, communities: ["4200000000:1:2"] }]\n`);
  });

  it('policy rules: ge/le bounds, prefix required, family agreement, set on reject', () => {
    const rules = (r: string) => errorsOf(`${BASE}import:\n  - ${r}\n`);
    expect(rules('{ match: { prefix: 10.0.0.0/8, ge: 4 }, action: accept }')).toEqual(['import[0].match.ge: must be 8..32 (line 4)']);
    expect(rules('{ match: { prefix: 10.0.0.0/8, le: 40 }, action: accept }')).toEqual(['import[0].match.le: must be 8..32 (line 4)']);
    expect(rules('{ match: { prefix: 10.0.0.0/8, ge: 24, le: 16 }, action: accept }')).toEqual([
      'import[0].match: ge (24) must not exceed le (16) (line 4)',
    ]);
    expect(rules('{ match: { ge: 24 }, action: accept }')).toEqual(['import[0].match.prefix: missing: ge, le and matchOperator apply to a prefix (line 4)']);
    expect(rules('{ match: { prefix: 10.0.0.0/8, family: ipv6-unicast }, action: accept }')).toEqual([
      'import[0].match.family: ipv6-unicast does not match the prefix 10.0.0.0/8 (line 4)',
    ]);
    expect(rules('{ action: reject, set: { med: 5 } }')).toEqual(['import[0].set: has no effect on a rejected route (line 4)']);
    expect(errorsOf(neighbor('    export: [{ match: { prefix: "2001:db8::/32", le: 129 }, action: accept }]\n'))).toEqual([
      'neighbors[0].export[0].match.le: must be 0..128 (line 6)',
    ]);
  });

  it('fib.protocol: other daemons\' numbers rejected, BIRD\'s 12 warned', () => {
    expect(errorsOf(`${BASE}fib: { protocol: 186 }\n`)).toEqual([
      'fib.protocol: 186 belongs to FRR/zebra; bgp-ts would delete its routes (default 201) (line 3)',
    ]);
    expect(errorsOf(`${BASE}fib: { protocol: 80 }\n`)[0]).toMatch(/Calico Felix/);
    expect(errorsOf(`${BASE}fib: { protocol: 4 }\n`)[0]).toMatch(/static routes/);
    const r = ok(`${BASE}fib: { protocol: 12 }\n`);
    expect(formatConfigErrors(r.warnings)[0]).toMatch(/^fib\.protocol: 12 is BIRD's protocol number/);
  });

  it('api.listen is parsed; beyond loopback without a token warns', () => {
    expect(errorsOf(`${BASE}api: { listen: "localhost" }\n`)).toEqual(['api.listen: must be host:port, [v6-address]:port or "none" (line 3)']);
    expect(ok(`${BASE}api: { listen: "[::1]:9179" }\n`).warnings).toEqual([]);
    expect(ok(`${BASE}api: { listen: none }\n`).warnings).toEqual([]);
    expect(formatConfigErrors(ok(`${BASE}api: { listen: "0.0.0.0:9179" }\n`).warnings)[0]).toMatch(/beyond loopback and no token/);
  });

  it('localAddress must match the neighbor address family', () => {
    expect(errorsOf(neighbor('    localAddress: "2001:db8::1"\n'))).toEqual([
      'neighbors[0].localAddress: must be of the same address family as 192.0.2.2 (line 6)',
    ]);
  });
});

describe('api token handling', () => {
  const SECRET = 'correct-horse-battery-staple';

  it('reads tokenFile relative to the config file and never prints the token', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bgp-ts-cfg-'));
    writeFileSync(join(dir, 'token'), `${SECRET}\n`);
    writeFileSync(join(dir, 'a.yaml'), `${BASE}api: { listen: "0.0.0.0:9179", tokenFile: token }\n`);
    const r = await loadConfigFile(join(dir, 'a.yaml'));
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.config.api.token).toBe(SECRET);
    expect(r.warnings).toEqual([]);
  });

  it('errors on an unreadable or too short token file without echoing it', () => {
    const missing = parseConfig(`${BASE}api: { tokenFile: /nonexistent/bgp-ts-token }\n`);
    expect(missing.ok).toBe(false);
    if (!missing.ok) expect(formatConfigErrors(missing.errors)).toEqual(['api.tokenFile: cannot read /nonexistent/bgp-ts-token: ENOENT (line 3)']);
    const short = parseConfig(`${BASE}api: { tokenFile: /t }\n`, undefined, { readSecret: () => 'hunter2' });
    expect(short.ok).toBe(false);
    if (!short.ok) {
      const text = formatConfigErrors(short.errors).join('\n');
      expect(text).toContain('at least 16 characters');
      expect(text).not.toContain('hunter2');
    }
  });

  it('an inline token that is too short is rejected without echoing it; token and tokenFile together are rejected', () => {
    const lines = errorsOf(`${BASE}api: { token: hunter2 }\n`);
    expect(lines).toEqual(['api.token: must be at least 16 characters (line 3)']);
    expect(errorsOf(`${BASE}api: { token: ${SECRET}, tokenFile: /t }\n`)).toEqual(['api: set either token or tokenFile, not both (line 3)']);
  });
});

describe('loadConfigFile', () => {
  it('reports an unreadable file as an error, not an exception', async () => {
    const r = await loadConfigFile('/nonexistent/bgp-ts.yaml');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(formatConfigErrors(r.errors)).toEqual(['(top level): cannot read /nonexistent/bgp-ts.yaml: ENOENT']);
  });
});

describe('closestKey', () => {
  it('matches case and separator variants, transpositions, and refuses distant words', () => {
    const keys = ['routerId', 'neighbors', 'holdTime', 'asn'];
    expect(closestKey('RouterID', keys)).toBe('routerId');
    expect(closestKey('hold-time', keys)).toBe('holdTime');
    expect(closestKey('nieghbors', keys)).toBe('neighbors');
    expect(closestKey('asm', keys)).toBe('asn');
    expect(closestKey('abc', keys)).toBeUndefined(); // two edits on a three-letter word is no typo
    expect(closestKey('description', keys)).toBeUndefined();
  });
});
