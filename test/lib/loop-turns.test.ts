// The one loop-turn budget (src/lib/loop-turns.ts): queued slices of work run
// in FIFO order within a turn's budget, round robin across turns; timers run
// between turns; a slice's deadline never passes the turn's end.
import { describe, expect, it } from 'vitest';
import { LoopTurns } from '../../src/lib/loop-turns.js';

/** A clock the test moves: each task "works" by advancing it. */
function fakeNow() {
  let t = 0;
  return { now: () => t, work: (ms: number) => void (t += ms) };
}
const turnsDone = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

describe('LoopTurns', () => {
  it('runs queued tasks in order within one turn while the budget lasts, the rest in the next turn first', async () => {
    const clock = fakeNow();
    const turns = new LoopTurns(10, clock.now);
    const ran: string[] = [];
    for (const name of ['a', 'b', 'c', 'd']) turns.schedule(() => (ran.push(name), clock.work(4)));
    await turnsDone(1);
    expect(ran).toEqual(['a', 'b', 'c']); // 0, 4, 8 ms: d would start at 12 >= 10
    turns.schedule(() => ran.push('e'));
    await turnsDone(1);
    expect(ran).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(turns.stats()).toMatchObject({ turns: 2, tasks: 5 });
  });

  it('a task re-queued while it runs waits for the next turn, behind the others (round robin)', async () => {
    const clock = fakeNow();
    const turns = new LoopTurns(100, clock.now);
    const ran: string[] = [];
    let left = 2;
    const busy = (): void => {
      ran.push('busy');
      clock.work(1);
      if (left-- > 0) turns.schedule(busy);
    };
    turns.schedule(busy);
    turns.schedule(() => ran.push('other'));
    await turnsDone(1);
    expect(ran).toEqual(['busy', 'other']);
    turns.schedule(() => ran.push('late'));
    await turnsDone(3);
    expect(ran).toEqual(['busy', 'other', 'busy', 'late', 'busy']);
  });

  it('a deadline is the task cap or the end of the turn, whichever is first; outside a turn just the cap', async () => {
    const clock = fakeNow();
    const turns = new LoopTurns(10, clock.now);
    expect(turns.deadline(8)).toBe(8);
    const seen: number[] = [];
    turns.schedule(() => (seen.push(turns.deadline(8)), clock.work(6)));
    turns.schedule(() => (seen.push(turns.deadline(8)), seen.push(Number(turns.exhausted()))));
    await turnsDone(1);
    expect(seen).toEqual([8, 10, 0]);
  });

  it('lets a timer due between turns run before the next turn of a long backlog', async () => {
    const turns = new LoopTurns(5);
    const order: string[] = [];
    const spin = (ms: number) => {
      const end = performance.now() + ms;
      while (performance.now() < end);
    };
    let n = 0;
    const work = (): void => {
      spin(2);
      order.push('work');
      if (++n < 40) turns.schedule(work);
    };
    turns.schedule(work);
    await new Promise<void>((resolve) => {
      setTimeout(() => {
        order.push('timer');
        resolve();
      }, 1);
    });
    // 40 slices of 2 ms are 80 ms of work; the 1 ms timer fired long before they were done.
    expect(order.indexOf('timer')).toBeLessThan(15);
  });

  it('sliced work resolves when its step says done; a throwing step rejects', async () => {
    const turns = new LoopTurns(10);
    let steps = 0;
    await turns.sliced(() => ++steps === 3, 1);
    expect(steps).toBe(3);
    await expect(turns.sliced(() => { throw new Error('boom'); }, 1)).rejects.toThrow('boom');
  });

  it('the longest turn is measured and reset when read', async () => {
    const clock = fakeNow();
    const turns = new LoopTurns(50, clock.now);
    turns.schedule(() => clock.work(7));
    await turnsDone(1);
    expect(turns.takeMaxTurnMs()).toBe(7);
    expect(turns.takeMaxTurnMs()).toBe(0);
  });
});
