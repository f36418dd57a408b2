// One budget for a turn of the event loop (DESIGN.md, Event loop discipline).
// Input pacing (each connection's decoding), RIB slices, FIB desired-table
// slices and kernel reconcile slices used to take their own setImmediate
// slices with their own budgets (4, 8, 10 and 8 ms), so with many busy
// connections nothing bounded their sum in one turn: keepalives and hold
// timers waited for all of them. Now every such slice is a task queued here.
// One setImmediate runs a turn: tasks in FIFO order while the turn's budget
// lasts; each task asks for its deadline (its own cap, never beyond what the
// turn has left) and re-queues itself at the tail when it has more, so busy
// peers take turns (round robin) and timers and I/O run between turns. The
// turn's length is measured for the metrics.

/** Work all queued slices together may do in one turn before timers and I/O run, ms. */
export const TURN_BUDGET_MS = 12;

export interface LoopTurnStats {
  /** Turns run since start. */
  readonly turns: number;
  /** Tasks run since start. */
  readonly tasks: number;
  /** Longest turn since the last call of takeMaxTurnMs(), ms. */
  readonly maxTurnMs: number;
}

export class LoopTurns {
  private queue: (() => void)[] = [];
  private head = 0;
  private scheduled = false;
  private turnStart = 0;
  private inTurn = false;
  private turns = 0;
  private tasks = 0;
  private maxTurnMs = 0;

  constructor(
    private readonly budgetMs = TURN_BUDGET_MS,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Runs `task` in a coming turn (after the tasks queued before it). */
  schedule(task: () => void): void {
    this.queue.push(task);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.runTurn);
    }
  }

  /** For a running task: when it must stop, given its own cap (ms), never past the turn's budget. */
  deadline(capMs: number): number {
    const now = this.now();
    if (!this.inTurn) return now + capMs;
    return Math.min(now + capMs, this.turnStart + this.budgetMs);
  }

  /** For a running task: whether the turn's budget is spent. */
  exhausted(): boolean {
    return this.inTurn && this.now() - this.turnStart >= this.budgetMs;
  }

  /**
   * Async work in slices (the kernel reconcile): `step(deadline)` runs as a
   * task of successive turns until it returns true (done); the promise then
   * resolves. A step that throws rejects it.
   */
  sliced(step: (deadline: number) => boolean, capMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const task = (): void => {
        let done: boolean;
        try {
          done = step(this.deadline(capMs));
        } catch (err) {
          reject(err);
          return;
        }
        if (done) resolve();
        else this.schedule(task);
      };
      this.schedule(task);
    });
  }

  stats(): LoopTurnStats {
    return { turns: this.turns, tasks: this.tasks, maxTurnMs: this.maxTurnMs };
  }

  /** The longest turn since the previous call, ms (metrics read it once per scrape). */
  takeMaxTurnMs(): number {
    const m = this.maxTurnMs;
    this.maxTurnMs = 0;
    return m;
  }

  private readonly runTurn = (): void => {
    this.scheduled = false;
    this.turnStart = this.now();
    this.inTurn = true;
    this.turns++;
    // Tasks queued while this turn runs wait for the next one.
    const end = this.queue.length;
    try {
      while (this.head < end) {
        if (this.now() - this.turnStart >= this.budgetMs) break;
        const task = this.queue[this.head]!;
        this.queue[this.head++] = NOOP;
        this.tasks++;
        try {
          task();
        } catch {
          // A task guards its own failures; one that does not must not stop the others.
        }
      }
    } finally {
      this.inTurn = false;
      const took = this.now() - this.turnStart;
      if (took > this.maxTurnMs) this.maxTurnMs = took;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      if (this.head < this.queue.length && !this.scheduled) {
        this.scheduled = true;
        setImmediate(this.runTurn);
      }
    }
  };
}

const NOOP = (): void => undefined;

/** The process's one loop-turn budget: every slice of work in the daemon is queued here. */
export const loopTurns = new LoopTurns();
