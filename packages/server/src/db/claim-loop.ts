/**
 * The loop both background workers run (webhook deliveries, token refreshes): claim due rows while
 * there is room for them, run each claimed row without waiting for the others, and sleep until woken
 * (a notice, a finished task) or until the poll interval passes. A wake-up that arrives while the loop
 * is busy is kept, so the next sleep returns at once.
 */
export interface ClaimLoop {
  /** Look for due rows now instead of at the next poll. */
  wake(): void;
  /** Stops claiming and waits for the tasks in flight to finish. */
  stop(): Promise<void>;
}

export interface ClaimLoopOptions<T> {
  pollMs: number;
  /** Tasks in flight at most. */
  concurrency: number;
  /** Claim only when at least this many slots are free (default 1). */
  minBatch?: number;
  /** Claims up to `room` due rows; a failure is reported and the loop sleeps until the next poll. */
  claim(room: number): Promise<T[]>;
  run(row: T): Promise<void>;
  onClaimError(err: unknown): void;
  onRunError(err: unknown, row: T): void;
}

export function startClaimLoop<T>(options: ClaimLoopOptions<T>): ClaimLoop {
  const { pollMs, concurrency, minBatch = 1 } = options;
  const inFlight = new Set<Promise<void>>();
  let stopped = false;
  let pending = false;
  let wakeUp: (() => void) | undefined;
  const wake = () => {
    pending = true;
    wakeUp?.();
  };
  const idle = () =>
    new Promise<void>((resolve) => {
      if (pending || stopped) return resolve();
      const timer = setTimeout(resolve, pollMs);
      wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    }).finally(() => {
      wakeUp = undefined;
    });

  const loop = (async () => {
    while (!stopped) {
      pending = false;
      const room = concurrency - inFlight.size;
      if (room < minBatch) {
        await idle();
        continue;
      }
      let claimed: T[] = [];
      try {
        claimed = await options.claim(room);
      } catch (err) {
        options.onClaimError(err);
      }
      for (const row of claimed) {
        const task = options
          .run(row)
          .catch((err) => options.onRunError(err, row))
          .finally(() => {
            inFlight.delete(task);
            wake();
          });
        inFlight.add(task);
      }
      // A full batch suggests more are due: claim again once a slot frees, otherwise sleep.
      if (claimed.length < room) await idle();
    }
  })();

  return {
    wake,
    stop: async () => {
      stopped = true;
      wakeUp?.();
      await loop;
      await Promise.all(inFlight);
    },
  };
}
