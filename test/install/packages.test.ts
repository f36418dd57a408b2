// One package list (.ci/packages.txt) for CI and the README: the README's
// apt-get line names exactly its packages, .ci/install-packages --print reads
// the same, and every binary the interop gate checks comes from a listed
// package (a missing iputils-ping once made 18 interop files time out).

import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMON_BINARIES, PEER_BINARIES } from '../interop/harness/prerequisites.js';

const root = new URL('../../', import.meta.url);
const listed = readFileSync(new URL('.ci/packages.txt', root), 'utf8')
  .split('\n')
  .map((l) => l.replace(/#.*/, '').trim())
  .filter(Boolean)
  .map((l) => l.split(/\s+/)[0]!);

describe('.ci/packages.txt', () => {
  it('.ci/install-packages reads the same list', () => {
    const printed = execFileSync('bash', [new URL('.ci/install-packages', root).pathname, '--print'], { encoding: 'utf8' }).trim().split(' ');
    expect(printed).toEqual(listed);
  });

  it('a package marked unless:COMMAND is skipped where COMMAND is on PATH, installed where it is not', () => {
    // A PATH holding only what the script itself runs, and a second one with a kubectl as well.
    const bare = mkdtempSync(join(tmpdir(), 'bgpts-pkgs-'));
    const withTool = mkdtempSync(join(tmpdir(), 'bgpts-pkgs-'));
    try {
      symlinkSync('/usr/bin/sed', join(bare, 'sed'));
      writeFileSync(join(withTool, 'kubectl'), '#!/bin/sh\n');
      chmodSync(join(withTool, 'kubectl'), 0o755);
      const plan = (path: string) =>
        execFileSync('/bin/bash', [new URL('.ci/install-packages', root).pathname, '--plan'], { encoding: 'utf8', env: { PATH: path }, stdio: ['ignore', 'pipe', 'pipe'] })
          .trim()
          .split(' ');
      expect(plan(bare)).toEqual(listed);
      expect(plan(`${withTool}:${bare}`)).toEqual(listed.filter((p) => p !== 'kubernetes-client'));
    } finally {
      rmSync(bare, { recursive: true, force: true });
      rmSync(withTool, { recursive: true, force: true });
    }
  });

  it("the README's apt-get line names exactly these packages", () => {
    const readme = readFileSync(new URL('README.md', root), 'utf8');
    const line = /sudo apt-get install -y --no-install-recommends ([^`]+)`/.exec(readme);
    expect(line, 'README quick start apt-get line').not.toBeNull();
    expect(line![1]!.trim().split(/\s+/)).toEqual(listed);
  });

  it('lists the package of every binary the interop gate checks', () => {
    const needed = [...COMMON_BINARIES, ...Object.values(PEER_BINARIES).flat()].map((b) => b.debianPackage);
    expect(needed.filter((p) => !listed.includes(p))).toEqual([]);
    expect(listed).toContain('iputils-ping');
  });

  it('.ci/run installs through the list, not a list of its own', () => {
    const run = readFileSync(new URL('.ci/run', root), 'utf8');
    expect(run).toContain('.ci/install-packages');
    expect(run).not.toMatch(/apt-get install/);
  });
});
