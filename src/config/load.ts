// The configuration loader: YAML text -> validated, defaulted, frozen BgpConfig.
// Four stages, each reporting every problem it finds rather than the first:
//   1. YAML syntax (errors carry line and column),
//   2. the TypeBox schema (schema.ts), whose raw errors are translated into
//      plain English with the offending path ("neighbors[2].asn: must be 1..4294967295")
//      and, when the mistake looks like a typo, the key the user probably meant,
//   3. semantic checks the schema cannot express (checks.ts: RFC 4271 §4.2 hold
//      time, duplicate neighbors, overlapping pools, ...), which also yield warnings,
//   4. secrets: `api.tokenFile` is read here, so the daemon never starts with a
//      token it cannot use. Token and password values never appear in messages.

import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { isMap, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors';
import { Value } from '@sinclair/typebox/value';
import type { TSchema } from '@sinclair/typebox';
import { ConfigSchema, type BgpConfig } from './schema.js';
import { maskedPrefix, registerConfigFormats } from './formats.js';
import { semanticChecks } from './checks.js';

registerConfigFormats();

export interface ConfigError {
  /** Where the problem is, e.g. "neighbors[2].asn"; "" for the top level. */
  readonly path: string;
  readonly message: string;
  /** 1-based line in the YAML source, when known. */
  readonly line?: number;
  readonly column?: number;
}

export type ConfigResult =
  | { readonly ok: true; readonly config: BgpConfig; readonly warnings: readonly ConfigError[] }
  | { readonly ok: false; readonly errors: readonly ConfigError[]; readonly warnings: readonly ConfigError[] };

export interface ParseOptions {
  /** Reads `api.tokenFile`; defaults to fs.readFileSync. Relative paths are resolved against `source`'s directory. */
  readonly readSecret?: (path: string) => string;
}

/** Reads, parses and validates a config file. Never throws: an unreadable file is a ConfigError. */
export async function loadConfigFile(path: string, opts: ParseOptions = {}): Promise<ConfigResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    return { ok: false, errors: [{ path: '', message: `cannot read ${path}: ${errnoText(err)}` }], warnings: [] };
  }
  return parseConfig(text, path, opts);
}

/** Parses and validates config text. `source` (a file path) anchors relative `tokenFile` paths. */
export function parseConfig(text: string, source?: string, opts: ParseOptions = {}): ConfigResult {
  const lines = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true, lineCounter: lines });
  if (doc.errors.length > 0) {
    const errors = doc.errors.map((e) => {
      const pos = e.linePos?.[0] ?? lines.linePos(e.pos[0]);
      return { path: `line ${pos.line}, column ${pos.col}`, message: firstLine(e.message), line: pos.line, column: pos.col };
    });
    return { ok: false, errors, warnings: [] };
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    return { ok: false, errors: [{ path: '', message: `YAML: ${(err as Error).message}` }], warnings: [] };
  }
  if (raw === null || raw === undefined) return { ok: false, errors: [{ path: '', message: 'the config is empty' }], warnings: [] };
  if (typeof raw !== 'object' || Array.isArray(raw))
    return { ok: false, errors: [{ path: '', message: 'the config must be a mapping of keys (routerId, asn, ...)' }], warnings: [] };

  const value = applyDefaults(ConfigSchema, raw);
  const locate = (segments: readonly string[]) => lineOf(doc, lines, segments);
  const schemaErrors = translateErrors([...Value.Errors(ConfigSchema, value)], locate);
  if (schemaErrors.length > 0) return { ok: false, errors: byLine(schemaErrors), warnings: [] };

  const config = Value.Clean(ConfigSchema, value) as BgpConfig;
  const errors: ConfigError[] = [];
  const warnings: ConfigError[] = [];
  const withLine = (e: { path: string; message: string }): ConfigError => {
    const line = locate(pathSegments(e.path));
    return line === undefined ? e : { ...e, line };
  };
  for (const { severity, path, message } of semanticChecks(config))
    (severity === 'error' ? errors : warnings).push(withLine({ path, message }));
  const tokenErrors: ConfigError[] = [];
  if (errors.length === 0) readTokenFile(config, source, opts.readSecret ?? ((p) => readFileSync(p, 'utf8')), tokenErrors);
  errors.push(...tokenErrors.map(withLine));
  if (errors.length > 0) return { ok: false, errors: byLine(errors), warnings: byLine(warnings) };
  return { ok: true, config: deepFreeze(config), warnings: byLine(warnings) };
}

/** One line per problem: "neighbors[2].asn: must be 1..4294967295 (line 14)". */
export function formatConfigErrors(errors: readonly ConfigError[]): string[] {
  return errors.map((e) => {
    const where = e.path === '' ? '(top level)' : e.path;
    const line = e.line !== undefined && !e.path.startsWith('line ') ? ` (line ${e.line})` : '';
    return `${where}: ${e.message}${line}`;
  });
}

// ------------------------------------------------------------ schema errors

type Locate = (segments: readonly string[]) => number | undefined;

/** Turns TypeBox ValueErrors into ConfigErrors, one per path (the first is the most telling). */
export function translateErrors(raw: readonly ValueError[], locate: Locate = () => undefined): ConfigError[] {
  const out: ConfigError[] = [];
  const seen = new Set<string>();
  for (const e of raw) {
    const segments = pointerSegments(e.path);
    let pathSegs = segments;
    let message: string;
    if (e.type === ValueErrorType.ObjectAdditionalProperties) {
      // Reported at the unknown key itself; name it from its parent.
      const key = segments[segments.length - 1] ?? '';
      pathSegs = segments.slice(0, -1);
      const known = Object.keys((e.schema as { properties?: object }).properties ?? {});
      const guess = closestKey(key, known);
      message = `unknown property "${key}"` + (guess ? ` (did you mean "${guess}"?)` : '');
    } else {
      message = describeError(e);
    }
    const path = formatPath(pathSegs);
    const dedupe = `${path}\u0000${e.type === ValueErrorType.ObjectAdditionalProperties ? message : ''}`;
    if (seen.has(dedupe)) continue;
    seen.add(dedupe);
    const line = locate(segments);
    out.push(line === undefined ? { path, message } : { path, message, line });
  }
  return out;
}

function describeError(e: ValueError): string {
  const s = e.schema as TSchema & Record<string, unknown>;
  switch (e.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return 'required, but missing';
    case ValueErrorType.Object:
      return `must be a mapping, got ${typeName(e.value)}`;
    case ValueErrorType.Array:
      return `must be a list, got ${typeName(e.value)}`;
    case ValueErrorType.String:
      return `must be a string, got ${typeName(e.value)}`;
    case ValueErrorType.Boolean:
      return `must be true or false, got ${typeName(e.value)}`;
    case ValueErrorType.Integer:
    case ValueErrorType.Number:
      return typeof e.value === 'number' ? 'must be a whole number' : `must be a number, got ${typeName(e.value)}`;
    case ValueErrorType.IntegerMinimum:
    case ValueErrorType.IntegerMaximum:
    case ValueErrorType.NumberMinimum:
    case ValueErrorType.NumberMaximum:
      return rangeText(s);
    case ValueErrorType.StringMinLength:
      return s.minLength === 1 ? 'must not be empty' : `must be at least ${s.minLength as number} characters`;
    case ValueErrorType.StringMaxLength:
      return `must be at most ${s.maxLength as number} characters`;
    case ValueErrorType.StringFormat:
      return formatText(s.format as string, e.value);
    case ValueErrorType.StringPattern:
      return `${JSON.stringify(e.value)} is not valid` + (s.description ? `: expected ${s.description as string}` : '');
    case ValueErrorType.ArrayMinItems:
      return s.minItems === 1 ? 'must not be empty' : `must have at least ${s.minItems as number} entries`;
    case ValueErrorType.ArrayMaxItems:
      return `must have at most ${s.maxItems as number} entries`;
    case ValueErrorType.ArrayUniqueItems:
      return 'must not list the same entry twice';
    case ValueErrorType.Union:
    case ValueErrorType.Literal: {
      const allowed = literalsOf(s);
      if (allowed.length > 0) return `${JSON.stringify(e.value)} is not one of the allowed values: ${allowed.join(', ')}`;
      return `${JSON.stringify(e.value)} does not match any allowed form`;
    }
    default:
      return e.message;
  }
}

function rangeText(s: Record<string, unknown>): string {
  const min = s.minimum as number | undefined;
  const max = s.maximum as number | undefined;
  if (min !== undefined && max !== undefined) return `must be ${min}..${max}`;
  if (min !== undefined) return `must be at least ${min}`;
  return `must be at most ${max as number}`;
}

function formatText(format: string, value: unknown): string {
  const shown = JSON.stringify(value);
  switch (format) {
    case 'ipv4':
      return `${shown} is not an IPv4 address`;
    case 'ip':
      return `${shown} is not an IP address`;
    case 'prefix': {
      const text = String(value);
      const masked = text.includes('/') ? maskedPrefix(text) : undefined;
      if (masked !== undefined) return `${shown} is not a prefix (host bits set? did you mean ${masked})`;
      return `${shown} is not a prefix (expected address/length, e.g. 10.244.1.0/26)`;
    }
    default:
      return `${shown} is not a valid ${format}`;
  }
}

function literalsOf(s: Record<string, unknown>): string[] {
  if ('const' in s) return [String(s.const)];
  const options = s.anyOf as Record<string, unknown>[] | undefined;
  if (!options || !options.every((o) => 'const' in o)) return [];
  return options.map((o) => String(o.const));
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'number') return Number.isInteger(v) ? 'a number' : 'a fraction';
  return `a ${typeof v}`;
}

/** The known key a typo most likely meant: case/separator-insensitive match, else edit distance <= 2. */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  const norm = (k: string) => k.toLowerCase().replace(/[-_ ]/g, '');
  const exact = known.find((k) => norm(k) === norm(key));
  if (exact) return exact;
  let best: string | undefined;
  let bestDist = Math.min(2, Math.floor(key.length / 3));
  for (const k of known) {
    const d = editDistance(norm(key), norm(k));
    if (d <= bestDist && (best === undefined || d < editDistance(norm(key), norm(best)))) {
      best = k;
      bestDist = d;
    }
  }
  return best;
}

/** Damerau-Levenshtein (optimal string alignment): a swapped pair of letters costs one edit. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * Fills in schema defaults where a value is absent. TypeBox's Value.Default
 * would also merge a default into a value of the wrong kind (`neighbors: {}`
 * becomes `[]`), hiding the user's mistake; this walker only descends into
 * values of the right kind and leaves the rest for the validator to report.
 */
function applyDefaults(schema: TSchema, value: unknown): unknown {
  const s = schema as TSchema & { default?: unknown; properties?: Record<string, TSchema>; items?: TSchema };
  if (value === undefined) {
    if (!('default' in s)) return undefined;
    value = structuredClone(s.default);
  }
  if (s.properties && isPlainObject(value)) {
    for (const [key, sub] of Object.entries(s.properties)) {
      const v = applyDefaults(sub, value[key]);
      if (v !== undefined) value[key] = v;
    }
  } else if (s.items && Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = applyDefaults(s.items, value[i]);
  }
  return value;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// ------------------------------------------------------------ paths and lines

function pointerSegments(pointer: string): string[] {
  if (pointer === '' || pointer === '/') return [];
  return pointer.slice(1).split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** ["neighbors", "2", "asn"] -> "neighbors[2].asn". */
export function formatPath(segments: readonly string[]): string {
  let out = '';
  for (const s of segments) out += /^\d+$/.test(s) ? `[${s}]` : out === '' ? s : `.${s}`;
  return out;
}

/** "neighbors[2].asn" -> ["neighbors", "2", "asn"]. */
function pathSegments(path: string): string[] {
  return path === '' ? [] : path.replace(/\[(\d+)\]/g, '.$1').replace(/^\./, '').split('.');
}

/** The source line of a key or list item, found by walking the YAML tree. */
function lineOf(doc: Document, lines: LineCounter, segments: readonly string[]): number | undefined {
  let node: unknown = doc.contents;
  let offset: number | undefined;
  for (const seg of segments) {
    if (isMap(node)) {
      const pair = node.items.find((p) => String((p.key as { value?: unknown } | null)?.value ?? p.key) === seg);
      if (!pair) break;
      offset = (pair.key as { range?: [number, number] } | null)?.range?.[0];
      node = pair.value;
    } else if (isSeq(node)) {
      const item = node.items[Number(seg)] as { range?: [number, number] } | undefined;
      if (!item) break;
      offset = item.range?.[0];
      node = item;
    } else break;
  }
  return offset === undefined ? undefined : lines.linePos(offset).line;
}

// ------------------------------------------------------------ secrets and helpers

function readTokenFile(config: BgpConfig, source: string | undefined, read: (p: string) => string, errors: ConfigError[]): void {
  const file = config.api.tokenFile;
  if (file === undefined) return;
  if (config.api.token !== undefined) return; // both set: reported by semanticChecks
  const path = isAbsolute(file) || source === undefined ? file : resolve(dirname(source), file);
  let token: string;
  try {
    token = read(path).trim();
  } catch (err) {
    errors.push({ path: 'api.tokenFile', message: `cannot read ${path}: ${errnoText(err)}` });
    return;
  }
  // The token itself is never echoed; only its length is judged.
  if (token.length < 16) errors.push({ path: 'api.tokenFile', message: `${path} must hold a token of at least 16 characters` });
  else config.api.token = token;
}

function errnoText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ?? e.message ?? String(err);
}

/** Source order reads best; errors without a line keep their place at the end. */
function byLine(errors: ConfigError[]): ConfigError[] {
  return errors
    .map((e, i) => ({ e, i }))
    .sort((a, b) => (a.e.line ?? Infinity) - (b.e.line ?? Infinity) || a.i - b.i)
    .map((x) => x.e);
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
