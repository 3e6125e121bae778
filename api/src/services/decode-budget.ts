// A weighted semaphore over bytes: image decodes wait until the memory they are estimated to need is
// free, so the decodes running at once in this process never hold more than the budget together.

export interface Budget {
  readonly capacity: number;
  /** Runs `work` once `cost` (at most the capacity) is free, first come first served. */
  run<T>(cost: number, work: () => Promise<T>): Promise<T>;
}

export function createBudget(capacity: number): Budget {
  let free = capacity;
  const waiting: { cost: number; start: () => void }[] = [];
  const next = () => {
    while (waiting.length > 0 && waiting[0]!.cost <= free) {
      const head = waiting.shift()!;
      free -= head.cost;
      head.start();
    }
  };
  return {
    capacity,
    async run(cost, work) {
      const need = Math.min(Math.max(0, cost), capacity);
      await new Promise<void>((start) => {
        waiting.push({ cost: need, start });
        next();
      });
      try {
        return await work();
      } finally {
        free += need;
        next();
      }
    },
  };
}
