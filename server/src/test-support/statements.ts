import type { DataSource } from 'typeorm';

/**
 * The statements TypeORM sends while `fn` runs whose SQL matches `pattern`, counted by a subscriber
 * (rawQuery's reads bypass subscribers: count those another way). `hold`: the first matching
 * statement waits for it before going to the database, so a test can act while that read is on its
 * way; `held` resolves when it is waiting.
 */
export async function countStatements(
  ds: DataSource,
  pattern: RegExp,
  fn: (held: Promise<void>) => Promise<unknown>,
  hold?: Promise<unknown>,
): Promise<number> {
  let count = 0;
  let holding!: () => void;
  const held = new Promise<void>((resolve) => (holding = resolve));
  const hook = {
    async beforeQuery(e: { query: string }) {
      if (!pattern.test(e.query)) return;
      count++;
      if (count === 1 && hold) {
        holding();
        await hold;
      }
    },
  };
  (ds.subscribers as unknown as object[]).push(hook);
  try {
    await fn(held);
  } finally {
    ds.subscribers.splice(ds.subscribers.indexOf(hook as never), 1);
  }
  return count;
}

/** Date.now() `ms` later than the real one while `fn` runs: caches kept by the wall clock run out. */
export async function later<T>(ms: number, fn: () => Promise<T>): Promise<T> {
  const real = Date.now;
  Date.now = () => real() + ms;
  try {
    return await fn();
  } finally {
    Date.now = real;
  }
}
