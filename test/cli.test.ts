// The built CLI as a user runs it: `node dist/cli.js ...` in a child process.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'dist', 'cli.js');

/** Sources the built CLI depends on; rebuild when dist is missing or older. */
function distIsStale(): boolean {
  if (!existsSync(cli)) return true;
  const built = statSync(cli).mtimeMs;
  const dir = (...d: string[]) => readdirSync(join(root, 'src', ...d)).filter((f) => f.endsWith('.ts')).map((f) => join(root, 'src', ...d, f));
  const sources = [join(root, 'src', 'cli.ts'), ...dir('config'), ...dir('api'), ...dir('api', 'routes')];
  return sources.some((s) => statSync(s).mtimeMs > built);
}

beforeAll(() => {
  if (distIsStale()) execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'ignore' });
}, 120_000);

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8', timeout: 15_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const configFiles = [
  'config/bgp-ts.yaml',
  ...readdirSync(join(root, 'config', 'examples')).filter((f) => f.endsWith('.yaml')).map((f) => `config/examples/${f}`),
];

describe('bgp-ts config check', () => {
  it('finds the shipped configs', () => {
    expect(configFiles).toEqual(expect.arrayContaining([
      'config/bgp-ts.yaml',
      'config/examples/calico-node-mesh.yaml',
      'config/examples/tor-ebgp.yaml',
      'config/examples/route-reflector.yaml',
      'config/examples/dual-stack.yaml',
    ]));
  });

  it.each(configFiles)('%s is valid (exit 0)', (file) => {
    const r = run('config', 'check', file);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${file}: ok`);
  });

  // The lab's configs name the token file by its path inside the container.
  it.each(readdirSync(join(root, 'deploy', 'lab')).filter((f) => f.endsWith('.yaml')).map((f) => `deploy/lab/${f}`))(
    '%s is valid with --skip-secrets, and says the token file was not read',
    (file) => {
      const r = run('config', 'check', '--skip-secrets', file);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`${file}: warning: api.tokenFile: /etc/bgp-ts/token not read (--skip-secrets)`);
      expect(r.stdout).toContain(`${file}: ok`);
      // Without the flag, on a host lacking the container's token file: an error naming the path.
      if (existsSync('/etc/bgp-ts/token')) return;
      const plain = run('config', 'check', file);
      expect(plain.code).toBe(1);
      expect(plain.stderr).toContain('api.tokenFile: cannot read /etc/bgp-ts/token');
    },
  );

  it('prints warnings but still passes', () => {
    const r = run('config', 'check', 'config/examples/calico-node-mesh.yaml');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/warning: fib\.protocol: 12 is BIRD's/);
  });

  describe('bad files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bgp-ts-cli-'));
    const write = (name: string, text: string) => {
      const p = join(dir, name);
      writeFileSync(p, text);
      return p;
    };

    it('a schema error: exit 1, names the file, the path and the problem', () => {
      const p = write('bad-asn.yaml', 'routerId: 192.0.2.1\nasn: 64512\nneighbors:\n  - { address: 192.0.2.2, asn: 4294967296 }\n');
      const r = run('config', 'check', p);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`${p}: neighbors[0].asn: must be 1..4294967295 (line 4)\n`);
      expect(r.stdout).not.toContain('ok');
    });

    it('a YAML syntax error: exit 1 with line and column', () => {
      const p = write('bad-yaml.yaml', 'routerId: 192.0.2.1\nasn: [64512\n');
      const r = run('config', 'check', p);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`^${p.replace(/[.]/g, '\\.')}: line \\d+, column \\d+: `));
    });

    it('a semantic error: exit 1', () => {
      const p = write('bad-hold.yaml', 'routerId: 192.0.2.1\nasn: 64512\nneighbors:\n  - { address: 192.0.2.2, asn: 1, holdTime: 2 }\n');
      const r = run('config', 'check', p);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('neighbors[0].holdTime: must be 0 or at least 3');
    });

    it('a missing file: exit 1', () => {
      const r = run('config', 'check', join(dir, 'nope.yaml'));
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('ENOENT');
    });

    it('daemon refuses to start on a bad config: exit 1 with the errors', () => {
      const p = write('bad-daemon.yaml', 'routerId: 0.0.0.0\nasn: 64512\n');
      const r = run('daemon', '--config', p);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`${p}: routerId: must not be 0.0.0.0`);
    });
  });
});

describe('bgp-ts usage', () => {
  it('--help lists the subcommands on stdout, exit 0', () => {
    const r = run('--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/bgp-ts daemon \[--config FILE\]/);
    expect(r.stdout).toMatch(/bgp-ts config check FILE/);
  });

  it('--version prints package.json version', () => {
    const r = run('--version');
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('an unknown command: usage on stderr, exit 2', () => {
    const r = run('frobnicate');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown command "frobnicate"');
    expect(r.stderr).toContain('Usage:');
    expect(r.stdout).toBe('');
  });

  it('no command, wrong arity and unknown options: exit 2', () => {
    expect(run().code).toBe(2);
    expect(run('config', 'check').code).toBe(2);
    const group = run('config');
    expect(group.code).toBe(2);
    expect(group.stderr).toContain('bgp-ts config: expected one of: check');
    const r = run('daemon', '--bogus');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Unknown option '--bogus'");
    expect(run('daemon', '--log-level', 'loud').code).toBe(2);
  });
});
