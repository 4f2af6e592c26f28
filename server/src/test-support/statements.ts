import { setTimeout as sleep } from 'node:timers/promises';
import type { DataSource } from 'typeorm';

/** What `countStatements` gives `fn` when asked to hold: the first matching statement's wait. */
export interface HeldRead {
  /** resolves when the first matching statement is waiting, before it reaches the database */
  held: Promise<void>;
  /** lets it go on (countStatements also does, when `fn` ends) */
  release(): void;
}

/**
 * The statements TypeORM sends while `fn` runs whose SQL matches `pattern`, counted by a subscriber
 * (rawQuery's reads bypass subscribers: count those another way). With `{ hold: true }` the first
 * matching statement waits before going to the database until `release()`, so a test can act while
 * that read is on its way.
 */
export async function countStatements(
  ds: DataSource,
  pattern: RegExp,
  fn: (read: HeldRead) => Promise<unknown>,
  opts: { hold?: boolean } = {},
): Promise<number> {
  let count = 0;
  let holding!: () => void;
  const held = new Promise<void>((resolve) => (holding = resolve));
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const hook = {
    async beforeQuery(e: { query: string }) {
      if (!pattern.test(e.query)) return;
      count++;
      if (count === 1 && opts.hold) {
        holding();
        await released;
      }
    },
  };
  (ds.subscribers as unknown as object[]).push(hook);
  try {
    await fn({ held, release });
  } finally {
    release();
    ds.subscribers.splice(ds.subscribers.indexOf(hook as never), 1);
  }
  return count;
}

/** `answer`, or 'waited for the older read' when it takes over 3 s: for a request that must not wait for a held read. */
export function withoutWaiting<T>(answer: Promise<T>): Promise<T | 'waited for the older read'> {
  return Promise.race([answer, sleep(3_000).then(() => 'waited for the older read' as const)]);
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
