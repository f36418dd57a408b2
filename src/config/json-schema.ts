// The config schema as plain JSON Schema (draft 2019-09 keywords, as TypeBox
// emits them) for editors and validators outside Node: shipped as
// config/bgp-ts.schema.json and regenerated with
//   node dist/config/json-schema.js > config/bgp-ts.schema.json
// (test/config/json-schema.test.ts fails when the shipped file is stale).
// Custom formats ('ip', 'prefix') are unknown to most editors, which then
// only check the type; the daemon's loader checks them fully.

import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { ConfigSchema } from './schema.js';

/** The schema as a plain JSON value (TypeBox's symbol-keyed metadata dropped). */
export function configJsonSchema(): Record<string, unknown> {
  const plain = JSON.parse(JSON.stringify(ConfigSchema)) as Record<string, unknown>;
  return { $schema: 'https://json-schema.org/draft/2019-09/schema', ...(relaxDefaulted(plain) as Record<string, unknown>) };
}

/**
 * TypeBox lists defaulted keys as required (the loader fills them in before
 * validating); a user's file may omit them, so the shipped schema must not
 * demand them.
 */
function relaxDefaulted(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(relaxDefaulted);
  if (typeof node !== 'object' || node === null) return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) out[k] = relaxDefaulted(v);
  const props = out.properties as Record<string, Record<string, unknown>> | undefined;
  if (props && Array.isArray(out.required)) {
    const required = (out.required as string[]).filter((k) => !(props[k] && 'default' in props[k]));
    if (required.length > 0) out.required = required;
    else delete out.required;
  }
  return out;
}

/** The exact text of config/bgp-ts.schema.json. */
export function configJsonSchemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}

if (isEntryPoint()) process.stdout.write(configJsonSchemaText());
