// The package's version, read once from package.json beside src/ or dist/
// (both sit one folder below it): `bgp-ts --version` and /api/v1/status say
// the same thing, and it is never a literal in the code.
import { readFileSync } from 'node:fs';

let cached: string | undefined;

export function packageVersion(): string {
  cached ??= (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return cached;
}
