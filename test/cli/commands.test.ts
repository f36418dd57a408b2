// The API subcommands of the command line, in process against a real API on
// 127.0.0.1 (startApi + the fake core from test/api): what each command asks
// the daemon, what it prints (table or --json), and the exit codes scripts
// rely on: 0 ok, 1 API error, 2 usage, 3 unreachable. One test runs the built
// CLI as a child process.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi, startApi, type RunningApi } from '../../src/api/server.js';
import { main, type CliIo } from '../../src/cli.js';
import { fakeDeps, route, type Calls } from '../api/fake-deps.js';

const TOKEN = 'cli-test-token-0123456789';
let loopback: RunningApi;
let exposed: RunningApi;
let calls: Calls;
let exposedCalls: Calls;

const root = join(import.meta.dirname, '..', '..');
const cli = join(root, 'dist', 'cli.js');

beforeAll(async () => {
  // The child-process test runs the built CLI; rebuild when a source it uses is newer.
  const dir = (...d: string[]) => readdirSync(join(root, 'src', ...d)).filter((f) => f.endsWith('.ts')).map((f) => join(root, 'src', ...d, f));
  const sources = [join(root, 'src', 'cli.ts'), ...dir('api'), ...dir('api', 'routes')];
  if (!existsSync(cli) || sources.some((s) => statSync(s).mtimeMs > statSync(cli).mtimeMs))
    execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'ignore' });
  const f = fakeDeps();
  calls = f.calls;
  // Two pages then done, so `routes` must follow the cursor.
  f.deps.routes = (q) => {
    calls.routes.push(q);
    return q.cursor === undefined
      ? { routes: [route(), route({ peer: '192.0.2.3', best: false, localPref: 50 })], nextCursor: 'page2' }
      : { routes: [route({ prefix: '2001:db8:1::/48', family: 'ipv6-unicast', nextHop: '2001:db8::2', asPath: '65001 65002' })] };
  };
  loopback = (await startApi(f.deps, { listen: '127.0.0.1:0' }, { metricsOptions: { defaultMetrics: false } }))!;
  const g = fakeDeps();
  exposedCalls = g.calls;
  // Configured as bound beyond loopback, so writes need the token, but the socket itself
  // listens on 127.0.0.1 only (tests keep their traffic on loopback).
  const app = await buildApi(g.deps, { listen: '0.0.0.0:9179', token: TOKEN, metricsOptions: { defaultMetrics: false } });
  await app.listen({ host: '127.0.0.1', port: 0 });
  exposed = { app, url: `http://127.0.0.1:${(app.server.address() as { port: number }).port}`, close: () => app.close() };
}, 120_000);
afterAll(async () => {
  await loopback?.close();
  await exposed?.close();
});

async function run(args: string[], env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    out: (t) => (stdout += t),
    err: (t) => (stderr += t),
    onSignal: () => {},
    offSignal: () => {},
    createLogger: () => {
      throw new Error('not used');
    },
    startDaemon: () => Promise.reject(new Error('not used')),
    env,
  };
  const code = await main(args, io);
  return { code, stdout, stderr };
}
const at = () => ['--api', loopback.url];

describe('read commands', () => {
  it('status prints a summary; --json the API body', async () => {
    const r = await run(['status', ...at()]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('router ID 192.0.2.1  AS 64512');
    expect(r.stdout).toMatch(/Peers: +2 configured, 0 dynamic, 1 established/);
    const j = await run(['status', '--json', ...at()]);
    expect(JSON.parse(j.stdout)).toMatchObject({ routerId: '192.0.2.1', asn: 64512 });
  });

  it('peers prints a birdc-like table: name, address, ASN, type, state, uptime or "down", info with the last error in words', async () => {
    const r = await run(['peers', ...at()]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^Name +Address +ASN +Type +State +Since +Info$/);
    expect(lines[1]).toMatch(/^node-b +192\.0\.2\.2 +64512 +iBGP mesh +Established +1h02m05s +rx\/acc\/adv 12\/10\/3$/);
    expect(lines[2]).toMatch(/^- +2001:db8::3 +65001 +eBGP ToR\/external +Active +down \S+ +rx\/acc\/adv 0\/0\/0 +Could not connect \(ECONNREFUSED\)$/);
    const j = JSON.parse((await run(['peers', '--json', ...at()])).stdout);
    expect(j.peers.map((p: { address: string }) => p.address)).toEqual(['192.0.2.2', '2001:db8::3']);
  });

  it('peer ADDRESS shows detail; an unknown peer exits 1 with the API message', async () => {
    const r = await run(['peer', '192.0.2.2', ...at()]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Hold time: +90 configured, 90 negotiated$/m);
    expect(r.stdout).toMatch(/^Capabilities: +ipv4-unicast, 4-octet-as, route-refresh, graceful-restart$/m);
    const nf = await run(['peer', '192.0.2.99', ...at()]);
    expect(nf.code).toBe(1);
    expect(nf.stderr).toBe('bgp-ts peer: no peer 192.0.2.99 (HTTP 404 not-found)\n');
  });

  it('routes follows cursors, passes filters, marks best paths', async () => {
    calls.routes.length = 0;
    const r = await run(['routes', '10.244.1.0/26', '--family', 'ipv4-unicast', '--peer', '192.0.2.2', '--best', ...at()]);
    expect(r.code).toBe(0);
    expect(calls.routes).toEqual([
      { prefix: '10.244.1.0/26', match: 'exact', family: 'ipv4-unicast', peer: '192.0.2.2', best: true, limit: 1000 },
      { prefix: '10.244.1.0/26', match: 'exact', family: 'ipv4-unicast', peer: '192.0.2.2', best: true, limit: 1000, cursor: 'page2' },
    ]);
    const lines = r.stdout.split('\n');
    expect(lines[1]).toMatch(/^\*  10\.244\.1\.0\/26 +192\.0\.2\.2 +192\.0\.2\.2 +- +igp +100 +- +64512:100$/);
    expect(lines[2]).toMatch(/^ {3}10\.244\.1\.0\/26 +192\.0\.2\.3 /);
    expect(lines[3]).toMatch(/^\*  2001:db8:1::\/48 +192\.0\.2\.2 +2001:db8::2 +65001 65002 /);
  });

  it('routes --limit stops early and reports the cursor in --json', async () => {
    calls.routes.length = 0;
    const r = await run(['routes', '--limit', '2', '--json', ...at()]);
    expect(r.code).toBe(0);
    expect(calls.routes).toEqual([{ limit: 2 }]);
    expect(JSON.parse(r.stdout)).toMatchObject({ routes: [{}, {}], nextCursor: 'page2' });
  });

  it('explain URL-encodes the prefix and prints each candidate with why', async () => {
    const r = await run(['explain', '10.244.1.0/26', ...at()]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('10.244.1.0/26: best path via 192.0.2.2, chosen on the highest LOCAL_PREF (2 candidates)');
    expect(r.stdout).toMatch(/^lost +192\.0\.2\.3 .*Lost: its LOCAL_PREF 100 is lower than 200 on the best path via 192\.0\.2\.2\.$/m);
    expect((await run(['explain', '10.9.0.0/16', ...at()])).code).toBe(1);
  });

  it('fib prints mode, counts and routes', async () => {
    const r = await run(['fib', '--state', 'pending', ...at()]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('FIB dry-run, table 254, protocol 201, reconciled');
    expect(r.stdout).toMatch(/^10\.244\.1\.0\/26 +pending +via 192\.0\.2\.2 dev tunl0 onlink$/m);
  });
});

describe('write commands', () => {
  it('announce with communities, withdraw, reset soft, shutdown, enable, config reload', async () => {
    expect((await run(['announce', '10.244.9.0/24', '--community', '64512:100', '--community', '64512:200', ...at()])).stdout).toBe('announced 10.244.9.0/24\n');
    expect((await run(['withdraw', '10.244.9.0/24', ...at()])).code).toBe(0);
    expect((await run(['reset', '192.0.2.2', '--soft', 'out', ...at()])).stdout).toBe('soft reset out 192.0.2.2\n');
    expect((await run(['reset', '2001:db8::3', ...at()])).code).toBe(0);
    expect((await run(['shutdown', '192.0.2.2', '-m', 'maintenance', ...at()])).code).toBe(0);
    expect((await run(['enable', '192.0.2.2', ...at()])).code).toBe(0);
    const reload = await run(['config', 'reload', ...at()]);
    expect(reload.stdout).toBe('config reloaded:\n  192.0.2.2: soft-out\n');
    expect(calls.announce.at(-1)).toEqual(['10.244.9.0/24', ['64512:100', '64512:200']]);
    expect(calls.withdraw.at(-1)).toBe('10.244.9.0/24');
    expect(calls.reset.slice(-2)).toEqual([['192.0.2.2', 'out'], ['2001:db8::3', undefined]]);
    expect(calls.shutdown.at(-1)).toEqual(['192.0.2.2', 'maintenance']);
    expect(calls.enable.at(-1)).toBe('192.0.2.2');
  });

  it('a request the API rejects exits 1 with its message', async () => {
    const r = await run(['announce', '10.244.9.1/24', ...at()]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/host bits set; did you mean 10\.244\.9\.0\/24\? \(HTTP 400 bad-request\)/);
  });

  it('beyond loopback: no token exits 1 (401); --token or BGP_TS_TOKEN works', async () => {
    const url = exposed.url;
    const none = await run(['enable', '192.0.2.2', '--api', url]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('HTTP 401 unauthorized');
    expect(exposedCalls.enable).toEqual([]);
    expect((await run(['enable', '192.0.2.2', '--api', url, '--token', TOKEN])).code).toBe(0);
    expect((await run(['enable', '192.0.2.3', '--api', url], { BGP_TS_TOKEN: TOKEN })).code).toBe(0);
    expect(exposedCalls.enable).toEqual(['192.0.2.2', '192.0.2.3']);
  });
});

describe('exit codes', () => {
  it('usage errors exit 2 without calling the API', async () => {
    for (const args of [
      ['peer'],
      ['peer', 'a', 'b'],
      ['reset', '192.0.2.2', '--soft', 'sideways'],
      ['routes', '--limit', '0'],
      ['routes', '--family', 'ipx'],
      ['status', '--api', 'ftp://x'],
      ['peers', '--bogus'],
    ]) {
      const r = await run(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain('Usage: bgp-ts');
    }
  });

  it('unreachable daemon exits 3, naming the URL', async () => {
    const port = await freePort();
    const r = await run(['peers', '--api', `http://127.0.0.1:${port}`]);
    expect(r.code).toBe(3);
    expect(r.stderr).toBe(`bgp-ts peers: cannot reach the daemon at http://127.0.0.1:${port}: ECONNREFUSED\n`);
    // BGP_TS_API is honoured when --api is absent.
    expect((await run(['status'], { BGP_TS_API: `http://127.0.0.1:${port}` })).code).toBe(3);
    expect((await run(['status'], { BGP_TS_API: loopback.url })).code).toBe(0);
  });

  it('the built CLI as a child process: peers table, exit 0; exit 3 when nothing listens', async () => {
    const ok = await child(cli, ['peers', '--api', loopback.url]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/node-b +192\.0\.2\.2 +64512 +iBGP mesh +Established/);
    const down = await child(cli, ['status', '--api', `http://127.0.0.1:${await freePort()}`]);
    expect(down.code).toBe(3);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Async spawn: the API under test runs in this process, so the event loop must stay free. */
function child(script: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
