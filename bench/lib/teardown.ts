// What a benchmark that started processes in network namespaces undoes, even
// on failure: its children, newest first (SIGTERM, SIGKILL after 10 s), then
// its namespaces, then its temporary directory. Only what it started.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

export async function teardown(children: ChildProcess[], namespaces: readonly string[], dir: string): Promise<void> {
  for (const c of [...children].reverse()) {
    if (c.exitCode !== null || c.signalCode !== null) continue;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }
  for (const ns of namespaces) {
    try {
      execFileSync('ip', ['netns', 'del', ns]);
    } catch {
      // not created
    }
  }
  rmSync(dir, { recursive: true, force: true });
}
