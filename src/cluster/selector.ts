// Calico's label selector language, parsed into a small expression tree and
// evaluated against a resource's labels. PURE: no I/O. The grammar (as
// libcalico-go accepts it, operators from lowest to highest precedence):
//   expr    := and ('||' and)*
//   and     := unary ('&&' unary)*
//   unary   := '!' unary | '(' expr ')' | term
//   term    := 'all()' | 'global()' | 'has(' key ')'
//            | key ('==' | '!=') string
//            | key ('in' | 'not in') '{' [string (',' string)*] '}'
//            | key ('contains' | 'starts with' | 'ends with') string
// A key is letters, digits and `_ . / -`; a string is single- or
// double-quoted (no escapes, as in Calico). An empty selector (only blanks)
// selects everything, like `all()`. Errors carry the 0-based column where
// parsing stopped, so a bad BGPPeer selector can be reported precisely.

export type Selector =
  | { readonly op: 'all' }
  | { readonly op: 'has'; readonly key: string }
  | { readonly op: 'eq' | 'ne' | 'contains' | 'startsWith' | 'endsWith'; readonly key: string; readonly value: string }
  | { readonly op: 'in' | 'notIn'; readonly key: string; readonly values: readonly string[] }
  | { readonly op: 'not'; readonly arg: Selector }
  | { readonly op: 'and' | 'or'; readonly args: readonly Selector[] };

export type SelectorResult =
  | { readonly ok: true; readonly selector: Selector }
  | { readonly ok: false; readonly error: string; readonly position: number };

export type Labels = Readonly<Record<string, string>>;

class SelectorSyntaxError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(message);
  }
}

const KEY = /[A-Za-z0-9_./-]/;

/** Parses a Calico selector; never throws. */
export function parseSelector(text: string): SelectorResult {
  const p = new Parser(text);
  try {
    const selector = p.parseTop();
    return { ok: true, selector };
  } catch (e) {
    if (e instanceof SelectorSyntaxError) return { ok: false, error: `${e.message} at column ${e.position + 1}`, position: e.position };
    throw e;
  }
}

/** True when `labels` satisfy `s`. A missing label is never equal to anything, and `!=` / `not in` hold for it. */
export function matches(s: Selector, labels: Labels): boolean {
  const has = (k: string) => Object.prototype.hasOwnProperty.call(labels, k);
  switch (s.op) {
    case 'all':
      return true;
    case 'has':
      return has(s.key);
    case 'eq':
      return has(s.key) && labels[s.key] === s.value;
    case 'ne':
      return !has(s.key) || labels[s.key] !== s.value;
    case 'contains':
      return has(s.key) && labels[s.key]!.includes(s.value);
    case 'startsWith':
      return has(s.key) && labels[s.key]!.startsWith(s.value);
    case 'endsWith':
      return has(s.key) && labels[s.key]!.endsWith(s.value);
    case 'in':
      return has(s.key) && s.values.includes(labels[s.key]!);
    case 'notIn':
      return !has(s.key) || !s.values.includes(labels[s.key]!);
    case 'not':
      return !matches(s.arg, labels);
    case 'and':
      return s.args.every((a) => matches(a, labels));
    case 'or':
      return s.args.some((a) => matches(a, labels));
  }
}

class Parser {
  private pos = 0;
  constructor(private readonly src: string) {}

  parseTop(): Selector {
    this.blanks();
    if (this.pos === this.src.length) return { op: 'all' };
    const s = this.parseOr();
    this.blanks();
    if (this.pos < this.src.length) this.fail(`unexpected '${this.src[this.pos]}'`);
    return s;
  }

  private fail(message: string, at = this.pos): never {
    throw new SelectorSyntaxError(message, at);
  }

  private blanks(): void {
    while (this.pos < this.src.length && /\s/.test(this.src[this.pos]!)) this.pos++;
  }

  /** Consumes `token` (after blanks) when it is next; words must end at a non-key character. */
  private accept(token: string): boolean {
    this.blanks();
    if (!this.src.startsWith(token, this.pos)) return false;
    const word = KEY.test(token[token.length - 1]!);
    const after = this.src[this.pos + token.length];
    if (word && after !== undefined && KEY.test(after)) return false;
    this.pos += token.length;
    return true;
  }

  private expect(token: string, what = `'${token}'`): void {
    if (!this.accept(token)) this.fail(`expected ${what}${this.found()}`);
  }

  private found(): string {
    this.blanks();
    return this.pos >= this.src.length ? ', found the end' : `, found '${this.src[this.pos]}'`;
  }

  private parseOr(): Selector {
    const args = [this.parseAnd()];
    while (this.accept('||')) args.push(this.parseAnd());
    return args.length === 1 ? args[0]! : { op: 'or', args };
  }

  private parseAnd(): Selector {
    const args = [this.parseUnary()];
    while (this.accept('&&')) args.push(this.parseUnary());
    return args.length === 1 ? args[0]! : { op: 'and', args };
  }

  private parseUnary(): Selector {
    if (this.accept('!')) return { op: 'not', arg: this.parseUnary() };
    if (this.accept('(')) {
      const inner = this.parseOr();
      this.expect(')');
      return inner;
    }
    return this.parseTerm();
  }

  private parseTerm(): Selector {
    this.blanks();
    const start = this.pos;
    // all() / global() / has(k); a label that happens to be called "has" is still a label
    for (const fn of ['all', 'global', 'has'] as const) {
      if (!this.accept(fn)) continue;
      if (!this.accept('(')) {
        this.pos = start;
        break;
      }
      if (fn === 'has') {
        const key = this.key();
        this.expect(')');
        return { op: 'has', key };
      }
      this.expect(')');
      return { op: 'all' };
    }
    this.pos = start;
    const key = this.key();
    if (this.accept('==')) return { op: 'eq', key, value: this.string() };
    if (this.accept('!=')) return { op: 'ne', key, value: this.string() };
    if (this.accept('in')) return { op: 'in', key, values: this.set() };
    if (this.accept('not')) {
      this.expect('in', "'in' after 'not'");
      return { op: 'notIn', key, values: this.set() };
    }
    if (this.accept('contains')) return { op: 'contains', key, value: this.string() };
    if (this.accept('starts')) {
      this.expect('with', "'with' after 'starts'");
      return { op: 'startsWith', key, value: this.string() };
    }
    if (this.accept('ends')) {
      this.expect('with', "'with' after 'ends'");
      return { op: 'endsWith', key, value: this.string() };
    }
    return this.fail(`expected an operator (==, !=, in, not in, contains, starts with, ends with) after label '${key}'${this.found()}`);
  }

  private key(): string {
    this.blanks();
    const start = this.pos;
    while (this.pos < this.src.length && KEY.test(this.src[this.pos]!)) this.pos++;
    if (this.pos === start) this.fail(`expected a label name or all()/has()${this.found()}`);
    return this.src.slice(start, this.pos);
  }

  private string(): string {
    this.blanks();
    const quote = this.src[this.pos];
    if (quote !== '"' && quote !== "'") this.fail(`expected a quoted string${this.found()}`);
    const end = this.src.indexOf(quote, this.pos + 1);
    if (end < 0) this.fail(`unterminated string`);
    const value = this.src.slice(this.pos + 1, end);
    this.pos = end + 1;
    return value;
  }

  private set(): string[] {
    this.expect('{');
    const values: string[] = [];
    if (this.accept('}')) return values;
    do values.push(this.string());
    while (this.accept(','));
    this.expect('}', "',' or '}'");
    return values;
  }
}
