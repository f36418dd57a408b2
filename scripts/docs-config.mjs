#!/usr/bin/env node
// `npm run docs:config`: regenerates docs/config-reference.md and the key list
// in README.md (between its config-keys markers) from the config schema, via
// the built CLI module (src/cli/config-reference.ts). Run it after changing
// src/config/schema.ts; test/cli/config-reference.test.ts fails until you do.
import { readFileSync, writeFileSync } from 'node:fs';
import { configReferenceMarkdown, readmeKeyList, README_BEGIN, README_END } from '../dist/cli/config-reference.js';

const root = new URL('../', import.meta.url);
writeFileSync(new URL('docs/config-reference.md', root), configReferenceMarkdown());
const readmeUrl = new URL('README.md', root);
const readme = readFileSync(readmeUrl, 'utf8');
const begin = readme.indexOf(README_BEGIN);
const end = readme.indexOf(README_END);
if (begin < 0 || end < begin) {
  process.stderr.write(`README.md: markers ${README_BEGIN} ... ${README_END} not found\n`);
  process.exit(1);
}
writeFileSync(readmeUrl, readme.slice(0, begin) + readmeKeyList() + readme.slice(end + README_END.length));
process.stdout.write('wrote docs/config-reference.md and the README key list\n');
