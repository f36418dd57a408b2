// `bgp-ts config check FILE --datastore` against a real etcd: one list, the
// merged config printed (secrets masked), malformed resources as warnings
// with their key; a bad datastore key and an unreachable datastore fail with
// the key named.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { main, type CliIo } from '../../src/cli.js';
import { affinity, ipPool, node } from './calico-fixtures.js';
import { EtcdServer, etcdGate } from './etcd-server.js';

const skip = etcdGate();

function io() {
  const out: string[] = [];
  const err: string[] = [];
  const cli: CliIo = {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    onSignal: () => {},
    offSignal: () => {},
    createLogger: () => pino({ level: 'silent' }),
    startDaemon: async () => {
      throw new Error('not started here');
    },
  };
  return { cli, out, err };
}

describe.skipIf(skip !== undefined)('bgp-ts config check --datastore', () => {
  let etcd: EtcdServer;
  let dir: string;
  const file = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bgpts-check-'));
    etcd = await EtcdServer.start();
    for (const [k, v] of [node('node-a', '10.0.0.5/24'), node('node-b', '10.0.0.10/24'), ipPool('p', { cidr: '10.244.0.0/16', ipipMode: 'Always' }), affinity('node-a', '10.244.1.0/26')] as const) await etcd.put(k, v);
    await etcd.put('/calico/resources/v3/projectcalico.org/bgppeers/bad', '{"spec":{"peerIP":"nope","asNumber":1}}');
  }, 30_000);
  afterAll(async () => {
    await etcd?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints the merged config and exits 0', async () => {
    const f = file('a.yaml', `datastore: { type: etcdv3, endpoints: ["${etcd.endpoint}"], nodeName: node-a }\napi: { listen: "127.0.0.1:9179", token: sekret-sekret-sekret }\n`);
    const { cli, out, err } = io();
    expect(await main(['config', 'check', f, '--datastore'], cli)).toBe(0);
    const text = out.join('');
    expect(err.join('')).toBe('');
    expect(text).toContain(`${f}: warning: datastore /calico/resources/v3/projectcalico.org/bgppeers/bad: spec.peerIP`);
    expect(text).toContain(`${f}: ok`);
    expect(text).not.toContain('sekret');
    const yaml = parse(text.split('\n').filter((l) => !l.startsWith(f) && !l.startsWith('#')).join('\n')) as Record<string, unknown>;
    expect(yaml).toMatchObject({ routerId: '10.0.0.5', asn: 64512, originate: [{ prefix: '10.244.1.0/26' }], ipPools: [{ cidr: '10.244.0.0/16', mode: 'ipip' }] });
    expect((yaml['neighbors'] as { address: string }[]).map((n) => n.address)).toEqual(['10.0.0.10']);
  });

  it('an unreachable datastore and a bad datastore key fail naming datastore', async () => {
    const down = file('down.yaml', 'datastore: { type: etcdv3, endpoints: ["http://127.0.0.1:1"], nodeName: node-a }\n');
    const r1 = io();
    expect(await main(['config', 'check', down, '--datastore'], r1.cli)).toBe(1);
    expect(r1.err.join('')).toMatch(/datastore: datastore http:\/\/127\.0\.0\.1:1 not listed yet/);
    const bad = file('bad.yaml', 'datastore: { type: etcdv3, endpoints: ["http://127.0.0.1:1"], certFile: /x }\n');
    const r2 = io();
    expect(await main(['config', 'check', bad, '--datastore'], r2.cli)).toBe(1);
    expect(r2.err.join('')).toContain('datastore.certFile: cannot read /x: ENOENT');
  }, 30_000);
});
