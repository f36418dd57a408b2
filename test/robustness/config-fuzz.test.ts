// Config fuzzing: random mutations of the example configs (config/**/*.yaml)
// through parseConfig — keys deleted, values of the wrong type, numbers out of
// range, garbage YAML text. Every outcome is either a valid config or a list of
// errors that each say where (a path, or the YAML line) and what; parseConfig
// never throws. Seeded, so a failure names a replayable case.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { parseConfig, type ConfigResult } from '../../src/config/load.js';
import { prng, type Prng } from './prng.js';

const CONFIG_DIR = join(import.meta.dirname, '../../config');
const files = [join(CONFIG_DIR, 'bgp-ts.yaml'), ...readdirSync(join(CONFIG_DIR, 'examples')).filter((f) => f.endsWith('.yaml')).map((f) => join(CONFIG_DIR, 'examples', f))];
// A datastore example leaves routerId/asn to the datastore; fuzz it with the stand-ins `config check` uses.
const standalone = (text: string) =>
  /^datastore:/m.test(text) ? `${/^routerId:/m.test(text) ? '' : 'routerId: 192.0.2.1\n'}${/^asn:/m.test(text) ? '' : 'asn: 64512\n'}${text}` : text;
const examples = files.map((f) => ({ file: f, text: standalone(readFileSync(f, 'utf8')) }));
// No file system reads for api.tokenFile: every token is this string.
const opts = { readSecret: () => 'robustness-token-0123456789abcdef' };

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Path = (string | number)[];

/** Every path to a value in a parsed document (objects and arrays included). */
function paths(v: Json, at: Path = []): Path[] {
  const out: Path[] = at.length > 0 ? [at] : [];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...at, i])));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...at, k]));
  return out;
}

function parentOf(doc: Json, path: Path): { parent: Json[] | Record<string, Json>; key: string | number } {
  let cur = doc as Record<string | number, Json>;
  for (const seg of path.slice(0, -1)) cur = cur[seg] as Record<string | number, Json>;
  return { parent: cur as Json[] | Record<string, Json>, key: path[path.length - 1]! };
}

/** Values of the wrong type or out of range, and strings that look almost right. */
const JUNK: readonly Json[] = [
  null, true, false, 0, -1, 1.5, 65536, 4294967296, 1e300, -1e300, '', ' ', 'junk', '10.0.0.1/33', '::/129', '10.0.0.1/24',
  '999.1.1.1', '\u0000', '\u202e\u{1f4a5}', 'x'.repeat(5000), [], [null], {}, { nested: { deep: [1, 2, 3] } }, '0x10', '1e3',
];

function mutate(doc: Json, r: Prng): string {
  const all = paths(doc);
  const path = r.pick(all);
  const { parent, key } = parentOf(doc, path);
  const op = r.int(4);
  if (op === 0) {
    // delete the key (or the list entry)
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent[key as string];
    return `delete ${path.join('.')}`;
  }
  if (op === 1) {
    const junk = r.pick(JUNK);
    (parent as Record<string | number, Json>)[key] = junk;
    return `set ${path.join('.')} = ${JSON.stringify(junk).slice(0, 40)}`;
  }
  if (op === 2) {
    // an unknown key beside a known one
    const target = Array.isArray(parent) || typeof (parent as Record<string, Json>)[key] !== 'object' ? parent : ((parent as Record<string, Json>)[key] as Record<string, Json>);
    if (!Array.isArray(target) && target !== null) (target as Record<string, Json>)[`typo${r.int(100)}`] = r.int(1000);
    return `unknown key under ${path.join('.')}`;
  }
  // numbers one past their range, either way
  const v = (parent as Record<string | number, Json>)[key];
  const n = typeof v === 'number' ? (r.int(2) ? -v - 1 : v * 65536 + 0.5) : r.pick([-1, 2 ** 32, 0.25]);
  (parent as Record<string | number, Json>)[key] = n;
  return `number ${path.join('.')} = ${n}`;
}

function garble(text: string, r: Prng): { what: string; text: string } {
  const at = r.int(text.length);
  switch (r.int(5)) {
    case 0:
      return { what: `truncate at ${at}`, text: text.slice(0, at) };
    case 1: {
      const b = Buffer.from(text);
      for (let i = 0; i < 1 + r.int(8); i++) b[r.int(b.length)] = r.int(256);
      return { what: 'flip octets', text: b.toString('utf8') };
    }
    case 2:
      return { what: `insert structure at ${at}`, text: text.slice(0, at) + r.pick(['{{', ']]', ': : :', '\t- ', '"', "'", '&a [*a]', '!!binary xyz', '%YAML 9.9\n', '---\n---\n']) + text.slice(at) };
    case 3:
      return { what: 'swap lines', text: text.split('\n').sort(() => r.next() - 0.5).join('\n') };
    default:
      return { what: 'random text', text: r.bytes(1 + r.int(300)).toString('latin1') };
  }
}

/** What every parseConfig result must look like, valid or not. */
function assertWellFormed(res: ConfigResult, what: string): void {
  if (res.ok) {
    expect(Object.isFrozen(res.config), what).toBe(true);
    return;
  }
  expect(res.errors.length, what).toBeGreaterThan(0);
  for (const e of res.errors) {
    expect(typeof e.path, what).toBe('string');
    expect(typeof e.message, what).toBe('string');
    expect(e.message.trim().length, `${what}: ${JSON.stringify(e)}`).toBeGreaterThan(0);
  }
}

function run(text: string): ConfigResult {
  try {
    return parseConfig(text, undefined, opts);
  } catch (err) {
    throw new Error(`parseConfig threw on:\n${text.slice(0, 2000)}\n${(err as Error).stack}`);
  }
}

describe('config fuzzing: the example configs mutated through parseConfig', () => {
  it('every example parses as it is (the fuzzer starts from valid configs)', () => {
    expect(examples.length).toBeGreaterThanOrEqual(5);
    for (const { file, text } of examples) expect(run(text), file).toMatchObject({ ok: true });
  });

  it('structural mutations: a config or errors naming the path; never a throw', () => {
    const r = prng(0x5eed_c0f1);
    let rejected = 0;
    let pathless = 0;
    for (let i = 0; i < 600; i++) {
      const { file, text } = examples[i % examples.length]!;
      const doc = parse(text) as Json;
      const steps = [mutate(doc, r), ...(r.int(3) === 0 ? [mutate(doc, r)] : [])];
      const what = `case ${i} (${file.split('/').pop()}): ${steps.join('; ')}`;
      const res = run(stringify(doc));
      assertWellFormed(res, what);
      if (res.ok) continue;
      rejected++;
      // Every error says where: a key path, or (an unknown top-level key) its line.
      for (const e of res.errors) if (e.path === '' && e.line === undefined) pathless++;
    }
    expect(rejected).toBeGreaterThan(300); // the mutations do bite
    expect(pathless).toBe(0);
  });

  it('garbage YAML text: errors with the line or the path; never a throw', () => {
    const r = prng(0xbad_7e47);
    for (let i = 0; i < 600; i++) {
      const { file, text } = examples[i % examples.length]!;
      const g = garble(text, r);
      const res = run(g.text);
      assertWellFormed(res, `case ${i} (${file.split('/').pop()}): ${g.what}`);
    }
  });

  it('named cases: the path and the problem are the ones mutated', () => {
    const base = parse(examples[0]!.text) as Record<string, Json>;
    const errorsFor = (edit: (d: Record<string, Json>) => void) => {
      const d = structuredClone(base);
      edit(d);
      const res = run(stringify(d));
      return res.ok ? [] : res.errors;
    };
    expect(errorsFor((d) => delete d.routerId)).toContainEqual(expect.objectContaining({ path: 'routerId', message: 'required, but missing' }));
    expect(errorsFor((d) => (d.asn = 4294967296))).toContainEqual(expect.objectContaining({ path: 'asn', message: expect.stringMatching(/4294967295/) }));
    expect(errorsFor((d) => (d.asn = 'sixty-four'))).toContainEqual(expect.objectContaining({ path: 'asn', message: expect.stringMatching(/number/) }));
    expect(errorsFor((d) => ((d.neighbors as Record<string, Json>[])[0]!.holdTime = 2))).toContainEqual(expect.objectContaining({ path: 'neighbors[0].holdTime' }));
    expect(errorsFor((d) => ((d.originate as Record<string, Json>[])[0]!.prefix = '10.244.1.1/26'))).toContainEqual(
      expect.objectContaining({ path: 'originate[0].prefix', message: expect.stringMatching(/host bits/) }),
    );
    expect(errorsFor((d) => ((d.originate as Record<string, Json>[])[0]!.prefix = '10.0.0.1/33'))).toContainEqual(expect.objectContaining({ path: 'originate[0].prefix' }));
    expect(errorsFor((d) => (d.typo = 1))).toContainEqual(expect.objectContaining({ path: '', message: 'unknown property "typo"', line: expect.any(Number) }));
    expect(errorsFor((d) => (d.neighbors = 'everyone'))).toContainEqual(expect.objectContaining({ path: 'neighbors', message: 'must be a list, got a string' }));
  });

  it('hostile YAML: alias bombs, deep nesting, huge text, empty and non-mapping documents', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 9 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}]`)].join('\n');
    const cases: Record<string, string> = {
      bomb,
      deep: 'routerId: ' + '['.repeat(5000) + ']'.repeat(5000),
      huge: examples[0]!.text + '\n# ' + 'x'.repeat(2_000_000) + '\n',
      empty: '',
      comment: '# nothing here\n',
      list: '- 1\n- 2\n',
      scalar: '42',
      nul: '\u0000\u0000',
      duplicate: 'asn: 1\nasn: 2\n',
    };
    const started = Date.now();
    for (const [name, text] of Object.entries(cases)) {
      const res = run(text);
      assertWellFormed(res, name);
      if (name !== 'huge') expect(res.ok, name).toBe(false);
    }
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
