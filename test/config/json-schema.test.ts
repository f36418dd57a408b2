// The shipped JSON Schema is the generated one, and it fits hand-written configs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configJsonSchema, configJsonSchemaText } from '../../src/config/json-schema.js';

const root = join(import.meta.dirname, '..', '..');

describe('config/bgp-ts.schema.json', () => {
  it('matches a fresh generation (run: node dist/config/json-schema.js > config/bgp-ts.schema.json)', () => {
    const shipped = readFileSync(join(root, 'config', 'bgp-ts.schema.json'), 'utf8');
    expect(shipped).toBe(configJsonSchemaText());
  });

  it('requires only keys without defaults, so minimal configs pass in an editor', () => {
    const schema = configJsonSchema() as {
      required: string[];
      properties: { neighbors: { items: { required: string[] } }; fib: { required?: string[] } };
    };
    expect(schema.required).toEqual(['routerId', 'asn']);
    expect(schema.properties.neighbors.items.required).toEqual(['address', 'asn']);
    expect(schema.properties.fib.required).toBeUndefined();
  });

  it('is plain JSON with the draft declared and custom formats kept', () => {
    const text = configJsonSchemaText();
    expect(JSON.parse(text).$schema).toMatch(/json-schema\.org/);
    expect(text).toContain('"format": "prefix"');
    expect(text.endsWith('}\n')).toBe(true);
  });
});
