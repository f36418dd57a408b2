// The reload plan's policy verdicts as the RIB runner takes them: exactly the
// neighbor and listen-range entries whose own import or export rules changed,
// keyed by their entry in the new config, and which side of the global rules
// changed. The RIB acts on these and compares no rules itself.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { planReload } from '../../src/config/reload-plan.js';
import type { BgpConfig } from '../../src/config/schema.js';
import { policyChanges } from '../../src/daemon/reload.js';

const BASE = `
routerId: 192.0.2.1
asn: 64512
neighbors:
  - { address: 192.0.2.2, asn: 64512, description: node-b }
  - { address: 192.0.2.3, asn: 64512 }
listenRanges:
  - { prefix: 192.0.2.128/25, asn: 64512 }
fib: { enabled: false }
api: { listen: "127.0.0.1:9179" }
`;

function cfg(text: string): BgpConfig {
  const r = parseConfig(text);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config;
}
const EXPORT = `export: [{ match: { prefix: 10.244.1.0/26 }, action: reject }]`;
const IMPORT = `import: [{ match: { prefix: 10.244.2.0/26 }, action: reject }]`;

describe('policyChanges', () => {
  it('one neighbor\'s export rules: that entry alone, export only; a description change is no policy change', () => {
    const next = cfg(BASE.replace('description: node-b }', `description: node-b, ${EXPORT} }`).replace('asn: 64512 }\nlisten', 'asn: 64512, description: c }\nlisten'));
    const c = policyChanges(planReload(cfg(BASE), next).diff);
    expect([...c.peers.entries()]).toEqual([[next.neighbors[0], { import: false, export: true }]]);
    expect(c.peers.get(next.neighbors[0]!)).toBeDefined(); // keyed by the new config's own entry (identity)
    expect(c.global).toEqual({ import: false, export: false });
  });

  it('a listen range\'s import rules: keyed by the range entry, import only', () => {
    const next = cfg(BASE.replace('prefix: 192.0.2.128/25, asn: 64512 }', `prefix: 192.0.2.128/25, asn: 64512, ${IMPORT} }`));
    const c = policyChanges(planReload(cfg(BASE), next).diff);
    expect([...c.peers.entries()]).toEqual([[next.listenRanges[0], { import: true, export: false }]]);
  });

  it('global import rules: the global import side, no per-peer entries (every peer follows the global flag)', () => {
    const next = cfg(BASE + IMPORT + '\n');
    const c = policyChanges(planReload(cfg(BASE), next).diff);
    expect(c.peers.size).toBe(0);
    expect(c.global).toEqual({ import: true, export: false });
  });

  it('ebgpRequiresPolicy: both global sides', () => {
    const next = cfg(BASE + 'ebgpRequiresPolicy: true\n');
    expect(policyChanges(planReload(cfg(BASE), next).diff).global).toEqual({ import: true, export: true });
  });

  it('a reset neighbor is the session layer\'s: no policy verdict for it', () => {
    const next = cfg(BASE.replace('description: node-b }', `description: node-b, holdTime: 30, ${EXPORT} }`));
    expect(policyChanges(planReload(cfg(BASE), next).diff).peers.size).toBe(0);
  });
});
