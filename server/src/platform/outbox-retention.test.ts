/**
 * The outbox's retention (OutboxWorker.prune, the hourly `outbox-retention` job): done messages
 * past OUTBOX_KEEP_DAYS leave the table's working set, and nothing the outbox promises is lost —
 * a follow-up queued once with a dedupe key is still refused a second time, deliveries counted by
 * key still count, pending and dead messages stay. SQLite, and MariaDB with TEST_DATABASE_URL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import { createTestDatabase, type TestDatabase } from '../test-support/db';
import { createDataSource } from './db/data-source';
import { OutboxMessage } from './entities';
import { enqueue, outboxStatusCounts, outboxTopic, OutboxWorker, PermanentFailure } from './outbox';
import { createLogger } from './logger';
import { refuseStampsFromDatabaseClock } from '../test-support/clock-stamps';

const DAY = 86_400_000;
const NOTE = outboxTopic<{ n: number; secret?: string }>('test.note');

describe('outbox retention', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let now = new Date('2026-12-01T02:00:00Z');
  let worker: OutboxWorker;

  beforeAll(async () => {
    db = await createTestDatabase();
    ds = createDataSource({ url: db.url, synchronize: true }, [OutboxMessage]);
    await ds.initialize();
    refuseStampsFromDatabaseClock(ds);
    worker = new OutboxWorker(ds, createLogger('silent'), () => now);
    worker.register(NOTE, async (p) => {
      if (p.n < 0) throw new PermanentFailure('refused');
    });
  });
  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  const queue = (n: number, dedupeKey?: string) => ds.transaction((em) => enqueue(em, NOTE, { n, secret: 'openid-of-a-resident' }, { dedupeKey, now }));
  const rows = async () => Object.fromEntries((await ds.getRepository(OutboxMessage).find()).map((m) => [m.payload.n ?? m.dedupeKey, m]));

  it('deletes old done messages without a key, archives keyed ones (key kept, payload dropped), keeps the rest', async () => {
    // 40 days ago: five done without a key, two done with one (an announcement's deliveries), one refused (dead)
    now = new Date('2026-10-20T02:00:00Z');
    for (let n = 1; n <= 5; n++) await queue(n);
    await queue(6, 'ann:1:r:1');
    await queue(7, 'ann:1:r:2');
    await queue(-1, 'ann:1:r:3');
    await worker.drain();
    // 10 days ago: one done; and one still pending (due in the future: never run)
    now = new Date('2026-11-21T02:00:00Z');
    await queue(8);
    await worker.drain();
    await ds.transaction((em) => enqueue(em, NOTE, { n: 9 }, { now, delayMs: 60 * DAY }));
    now = new Date('2026-12-01T02:00:00Z');
    expect(await outboxStatusCounts(ds, 'ann:1:r:')).toEqual({ done: 2, dead: 1 });

    // two per statement: the loop must go on until nothing old is left
    const out = await worker.prune(30, 2);
    expect(out).toEqual({ deleted: 5, archived: 2 });
    const left = await rows();
    expect(Object.keys(left).sort()).toEqual(['-1', '8', '9', 'ann:1:r:1', 'ann:1:r:2'].sort());
    expect(left['ann:1:r:1']).toMatchObject({ status: 'archived', payload: {}, lastError: null, topic: 'test.note' });
    expect(left['-1']).toMatchObject({ status: 'dead', lastError: 'refused', payload: { n: -1 } });
    expect(left['8']).toMatchObject({ status: 'done', payload: { n: 8 } });
    expect(left['9']).toMatchObject({ status: 'pending' });
    // deliveries counted by key: an archived one is still a delivery
    expect(await outboxStatusCounts(ds, 'ann:1:r:')).toEqual({ done: 2, dead: 1 });

    // the key still guards its follow-up: queued again, it is the same (archived) message, not a new one
    const id = await queue(60, 'ann:1:r:1');
    expect(id).toBe(left['ann:1:r:1']!.id);
    expect(await ds.getRepository(OutboxMessage).count({ where: { dedupeKey: 'ann:1:r:1' } })).toBe(1);
    await worker.drain();
    expect(await ds.getRepository(OutboxMessage).findOneByOrFail({ dedupeKey: 'ann:1:r:1' })).toMatchObject({ status: 'archived' });

    // again: nothing more to do
    expect(await worker.prune(30, 2)).toEqual({ deleted: 0, archived: 0 });
    // later the 10-day-old one goes too
    now = new Date('2026-12-25T02:00:00Z');
    expect(await worker.prune(30, 2)).toEqual({ deleted: 1, archived: 0 });
    expect(Object.keys(await rows()).sort()).toEqual(['-1', '9', 'ann:1:r:1', 'ann:1:r:2'].sort());
  });
});
