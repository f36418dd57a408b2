// The README's quick start: `npm start` runs config/bgp-ts.yaml and a peer for
// it comes ready in config/peers/ (BIRD 2 and GoBGP). Each peer file must point
// at what bgp-ts listens on and come from the neighbor bgp-ts expects (issue
// 13), BIRD's iBGP over loopback needs `multihop`, and each daemon's own
// config check accepts its file (skipped locally without the binary, a
// failure under CI=true, where .ci/packages.txt installs both).

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';

const root = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');
const loaded = parseConfig(read('config/bgp-ts.yaml'));
if (!loaded.ok) throw new Error(`config/bgp-ts.yaml: ${JSON.stringify(loaded.errors)}`);
const ours = loaded.config;

/** The binary, or a skip: missing locally is a skip, missing under CI a failure. */
function binary(path: string, pkg: string): string | undefined {
  if (existsSync(path)) return undefined;
  const why = `${path} not found (apt-get install ${pkg})`;
  if (process.env['CI'] === 'true') throw new Error(`prerequisite missing under CI: ${why}`);
  return why;
}

describe('config/peers: the quick start peers for config/bgp-ts.yaml', () => {
  it('bird.conf: dials our listen address and port from our configured neighbor, same AS, multihop', () => {
    const conf = read('config/peers/bird.conf').replace(/#.*$/gm, '');
    const local = /^\s*local\s+(\S+)\s+port\s+(\d+)\s+as\s+(\d+);/m.exec(conf);
    const neighbor = /^\s*neighbor\s+(\S+)\s+port\s+(\d+)\s+as\s+(\d+);/m.exec(conf);
    expect(local, 'local ... port ... as ...').not.toBeNull();
    expect(neighbor, 'neighbor ... port ... as ...').not.toBeNull();
    expect(ours.listen.addresses).toContain(neighbor![1]);
    expect(Number(neighbor![2])).toBe(ours.listen.port);
    expect(Number(neighbor![3])).toBe(ours.asn);
    expect(ours.neighbors).toContainEqual(expect.objectContaining({ address: local![1], asn: Number(local![3]) }));
    expect(conf).toMatch(/^\s*multihop;/m);
  });

  it('gobgpd.toml: dials our listen address and port from our configured neighbor, same AS', () => {
    const conf = read('config/peers/gobgpd.toml').replace(/#.*$/gm, '');
    const value = (key: string) => /^\s*(?:"([^"]*)"|(\S+))/.exec(conf.split(new RegExp(`^\\s*${key}\\s*=`, 'm'))[1] ?? '')?.slice(1).find((v) => v !== undefined);
    expect(ours.listen.addresses).toContain(value('neighbor-address'));
    expect(Number(value('remote-port'))).toBe(ours.listen.port);
    expect(Number(value('peer-as'))).toBe(ours.asn);
    expect(ours.neighbors).toContainEqual(expect.objectContaining({ address: value('local-address'), asn: Number(value('as')) }));
  });

  const noBird = binary('/usr/sbin/bird', 'bird2');
  it.skipIf(noBird !== undefined)(`bird -p accepts bird.conf${noBird ? ` (skipped: ${noBird})` : ''}`, () => {
    execFileSync('/usr/sbin/bird', ['-p', '-c', new URL('config/peers/bird.conf', root).pathname], { stdio: 'pipe' });
  });

  const noGobgp = binary('/usr/bin/gobgpd', 'gobgpd');
  it.skipIf(noGobgp !== undefined)(`gobgpd --dry-run accepts gobgpd.toml${noGobgp ? ` (skipped: ${noGobgp})` : ''}`, () => {
    execFileSync('/usr/bin/gobgpd', ['--dry-run', '-f', new URL('config/peers/gobgpd.toml', root).pathname], { stdio: 'pipe', timeout: 20_000 });
  });
});
