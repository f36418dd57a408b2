// The config reference is generated from the schema (src/cli/config-reference.ts):
// docs/config-reference.md and README.md's key list must be what the schema
// gives today (run `npm run docs:config` after a schema change), and every
// key the schema accepts appears, with a meaning.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configReferenceMarkdown, configReferenceRows, readmeKeyList, README_BEGIN, README_END } from '../../src/cli/config-reference.js';
import { main, type CliIo } from '../../src/cli.js';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

describe('config reference', () => {
  it('docs/config-reference.md matches the schema (npm run docs:config)', () => {
    expect(read('docs/config-reference.md')).toBe(configReferenceMarkdown());
  });

  it("README.md's key list matches the schema (npm run docs:config)", () => {
    const readme = read('README.md');
    const block = readme.slice(readme.indexOf(README_BEGIN), readme.indexOf(README_END) + README_END.length);
    expect(block).toBe(readmeKeyList());
  });

  it('names every key the issue found missing, each with a meaning', () => {
    const rows = configReferenceRows();
    const keys = rows.map((r) => r.key);
    for (const k of ['hostname', 'clientToClientReflection', 'alwaysCompareMed', 'ebgpRequiresPolicy', 'neighbors[].port', 'neighbors[].connectRetryTime', 'neighbors[].localAsn', 'neighbors[].shutdown', 'fib.dryRun'])
      expect(keys).toContain(k);
    expect(rows.filter((r) => r.meaning === '').map((r) => r.key)).toEqual([]);
    expect(rows.find((r) => r.key === 'neighbors[].holdTime')).toMatchObject({ type: 'integer 0–65535', default: '`90`' });
    expect(rows.find((r) => r.key === 'routerId')?.default).toBe('required');
  });

  it('bgp-ts config reference prints it', async () => {
    let out = '';
    const io = { out: (t: string) => void (out += t), err: () => {} } as unknown as CliIo;
    expect(await main(['config', 'reference'], io)).toBe(0);
    expect(out).toBe(configReferenceMarkdown());
  });
});
