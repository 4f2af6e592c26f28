/**
 * Job leases (job_lease) between schedulers that share a database, as instances do: one claim per
 * tick however many try at once, nothing before the next tick, a lease held by a run in progress,
 * a dead instance's lease taken over once it expires, a failure recorded and the lease released.
 */
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import type { DataSource } from 'typeorm';
import { createDataSource } from '../db';
import { createTestDatabase, type TestDatabase } from '../test-support/db';
import { createLogger } from './logger';
import { JobLease } from './entities';
import { JobScheduler } from './jobs';
import { refuseStampsFromDatabaseClock } from '../test-support/clock-stamps';

let db: TestDatabase;
let ds1: DataSource;
let ds2: DataSource;
const log = createLogger('silent');
let now = Date.parse('2026-11-20T02:00:00Z');
const clock = () => new Date(now);

beforeAll(async () => {
  db = await createTestDatabase();
  ds1 = createDataSource({ url: db.url, sqlitePath: ':memory:', synchronize: true });
  await ds1.initialize();
  refuseStampsFromDatabaseClock(ds1);
  // a second connection pool on the same database (SQLite in memory: the same DataSource)
  ds2 = db.url ? createDataSource({ url: db.url }) : ds1;
  if (!ds2.isInitialized) await ds2.initialize();
});
afterAll(async () => {
  if (ds2 !== ds1 && ds2?.isInitialized) await ds2.destroy();
  if (ds1?.isInitialized) await ds1.destroy();
  await db?.drop();
});

/** Waits until every tick but one has answered and the remaining one is running the job. */
async function settledBesidesTheRun(ticks: Promise<unknown>[]) {
  let settled = 0;
  ticks.forEach((p) => void p.then(() => (settled += 1)));
  await vi.waitFor(
    () => {
      if (settled < ticks.length - 1) throw new Error(`${settled} of ${ticks.length - 1} losing ticks answered`);
    },
    { timeout: 30_000, interval: 20 },
  );
}

it('one run per tick across schedulers; the next tick not before everyMs; a running job holds its lease', async () => {
  let runs = 0;
  let release: () => void = () => {};
  const make = (ds: DataSource) => {
    const s = new JobScheduler(ds, log, clock);
    s.add({ name: 'sweep', everyMs: 60_000, leaseMs: 5 * 60_000, run: () => ((runs += 1), new Promise<void>((r) => (release = r))) });
    return s;
  };
  const [a, b, c] = [make(ds1), make(ds2), make(ds2)];
  const first = [a.tick('sweep'), b.tick('sweep'), c.tick('sweep')];
  // the two that lose the claim answer at once; the winner's run waits for release() (no fixed sleep:
  // on a busy machine the claims can take longer than any guess)
  await settledBesidesTheRun(first);
  expect(runs).toBe(1);
  const held = await ds1.getRepository(JobLease).findOneByOrFail({ name: 'sweep' });
  expect(held.owner).toEqual(expect.any(String));
  // due again by the clock, but the run still holds the lease: another instance can't take it
  now += 61_000;
  expect(await make(ds2).tick('sweep')).toBe('not_due');
  release();
  const outcomes = await Promise.all(first);
  expect(outcomes.filter((o) => o === 'ran')).toHaveLength(1);
  // released: free, and the tick after is claimed once again
  expect((await ds1.getRepository(JobLease).findOneByOrFail({ name: 'sweep' })).owner).toBeNull();
  now += 61_000;
  const second = [a.tick('sweep'), b.tick('sweep')];
  await settledBesidesTheRun(second);
  release();
  expect((await Promise.all(second)).filter((o) => o === 'ran')).toHaveLength(1);
  expect(runs).toBe(2);
  // not due yet: nobody runs
  now += 10_000;
  expect(await a.tick('sweep')).toBe('not_due');
  expect((await ds1.getRepository(JobLease).findOneByOrFail({ name: 'sweep' })).runs).toBe(2);
});

it('a lease left by a dead instance is taken over after it expires; failures are recorded and release the lease', async () => {
  // an instance claimed the job and died (its lease row stays)
  await ds1.getRepository(JobLease).insert({
    name: 'recon',
    owner: 'dead-host:1:abc',
    leasedUntil: new Date(now + 60_000),
    nextRunAt: new Date(now - 1),
    runs: 1,
    lastStartedAt: new Date(now - 1000),
  });
  const s = new JobScheduler(ds2, log, clock);
  let ran = 0;
  s.add({
    name: 'recon',
    everyMs: 300_000,
    leaseMs: 60_000,
    run: async () => {
      ran += 1;
      throw new Error('bill not ready');
    },
  });
  expect(await s.tick('recon')).toBe('not_due');
  now += 61_000;
  expect(await s.tick('recon')).toBe('failed');
  expect(ran).toBe(1);
  const row = await ds1.getRepository(JobLease).findOneByOrFail({ name: 'recon' });
  expect(row).toMatchObject({ owner: null, leasedUntil: null, runs: 2, lastError: 'bill not ready' });
  // stopped: no more claims
  await s.stop();
  now += 600_000;
  expect(await s.tick('recon')).toBe('not_due');
});
