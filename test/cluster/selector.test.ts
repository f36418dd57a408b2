// Calico's selector language: grammar, precedence, label semantics and errors
// with their column.
import { describe, expect, it } from 'vitest';
import { matches, parseSelector, type Labels } from '../../src/cluster/selector.js';

const sel = (text: string) => {
  const r = parseSelector(text);
  if (!r.ok) throw new Error(r.error);
  return r.selector;
};
const m = (text: string, labels: Labels) => matches(sel(text), labels);

describe('selector: terms', () => {
  const l = { rack: 'r1', zone: 'eu-west-1a', 'projectcalico.org/rr': 'true' };
  it.each([
    ['all()', true],
    ['global()', true],
    ['', true],
    ['   ', true],
    ['has(rack)', true],
    ['has(missing)', false],
    ['has(projectcalico.org/rr)', true],
    ["rack == 'r1'", true],
    ['rack == "r2"', false],
    ["missing == ''", false],
    ["rack != 'r2'", true],
    ["missing != 'x'", true],
    ["rack in {'r1', 'r2'}", true],
    ["rack in {}", false],
    ["rack not in {'r1'}", false],
    ["missing not in {'r1'}", true],
    ["zone contains 'west'", true],
    ["zone starts with 'eu-'", true],
    ["zone ends with '1b'", false],
    ["missing contains ''", false],
  ])('%s -> %s', (text, want) => expect(m(text, l)).toBe(want));
});

describe('selector: operators', () => {
  const l = { a: '1', b: '2' };
  it('! binds tighter than &&, && tighter than ||', () => {
    expect(m("a == '1' || a == '9' && b == '9'", l)).toBe(true); // a==1 || (a==9 && b==9)
    expect(m("(a == '1' || a == '9') && b == '9'", l)).toBe(false);
    expect(m("!has(c) && has(a)", l)).toBe(true);
    expect(m("!(has(a) && has(b))", l)).toBe(false);
    expect(m('!!has(a)', l)).toBe(true);
  });
  it('a label called like a function is still a label', () => {
    expect(m("has == 'x'", { has: 'x' })).toBe(true);
    expect(m("hasher == 'x'", { hasher: 'x' })).toBe(true);
    expect(m("all == 'y'", { all: 'y' })).toBe(true);
  });
  it('blanks are free, keys end at the operator', () => {
    expect(m("a=='1'&&b=='2'", l)).toBe(true);
    expect(m("  has( a )  ", l)).toBe(true);
  });
});

describe('selector: errors name the problem and the column', () => {
  it.each([
    ["rack = 'r1'", 'expected an operator', 6],
    ["rack == r1", 'expected a quoted string', 9],
    ["rack == 'r1", 'unterminated string', 9],
    ["has(rack", "expected ')'", 9],
    ["(has(a)", "expected ')'", 8],
    ["has(a) &&", 'expected a label name', 10],
    ["has(a) has(b)", "unexpected 'h'", 8],
    ["a in {'x' 'y'}", "expected ',' or '}'", 11],
    ["a not {'x'}", "expected 'in' after 'not'", 7],
    ["a starts 'x'", "expected 'with' after 'starts'", 10],
    ['&& has(a)', 'expected a label name', 1],
  ])('%s', (text, what, column) => {
    const r = parseSelector(text);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toContain(what);
    expect(r.error).toContain(`at column ${column}`);
    expect(r.position).toBe(column - 1);
  });
});
