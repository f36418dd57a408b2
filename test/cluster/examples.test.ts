// The shipped Calico examples obey Calico's mesh passive rule: toward a peer
// whose address is greater as a string the node is passive (model.ts).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { meshPassive } from '../../src/cluster/model.js';

const root = join(import.meta.dirname, '..', '..');

describe('config/examples/calico-node-mesh.yaml', () => {
  it('each Mesh_ neighbor is passive exactly when its address is the greater string', () => {
    const r = parseConfig(readFileSync(join(root, 'config/examples/calico-node-mesh.yaml'), 'utf8'));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const mesh = r.config.neighbors.filter((n) => n.description?.startsWith('Mesh_'));
    expect(mesh.length).toBeGreaterThan(1);
    expect(mesh.some((n) => n.passive) && mesh.some((n) => !n.passive)).toBe(true);
    for (const n of mesh) expect([n.address, n.passive]).toEqual([n.address, meshPassive(r.config.routerId, n.address)]);
  });
});
