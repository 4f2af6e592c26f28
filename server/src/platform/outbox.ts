import { In, type DataSource, type EntityManager } from 'typeorm';
import { OutboxMessage } from './entities';
import { forUpdate, insertRow, insertRows, isUniqueViolation, updateByIds, withTx } from './db/data-source';
import type { Logger } from './logger';
import { errorSummary } from './errors';
import { outboxOutcome } from './metrics';

/**
 * A typed outbox topic: its name and (as a type only) the payload its rows carry. The module that
 * owns a job declares it once (`outboxTopic<{ invoiceId: number }>('invoices.submit')`); enqueue
 * and register both take the topic, so a handler's payload type follows from the topic.
 */
export interface OutboxTopic<P extends object> {
  readonly name: string;
  /** type only: never set */
  readonly __payload?: P;
}

export function outboxTopic<P extends object>(name: string): OutboxTopic<P> {
  if (name.length > 64) throw new Error(`outbox topic longer than 64 characters: ${name}`);
  return { name };
}

export type OutboxHandler<P extends object> = (payload: P, msg: OutboxMessage) => Promise<void>;

/** A handler throws this for a failure that retrying cannot fix (e.g. user refused messages). */
export class PermanentFailure extends Error {}

export interface EnqueueOptions {
  dedupeKey?: string;
  delayMs?: number;
  maxAttempts?: number;
  now?: Date;
}

/**
 * Queue a side effect inside the caller's transaction. With a dedupeKey the same follow-up is
 * queued once (a unique key enforces it).
 */
export async function enqueue<P extends object>(em: EntityManager, topic: OutboxTopic<P>, payload: P, opts: EnqueueOptions = {}) {
  const now = opts.now ?? new Date();
  try {
    return await insertMessage(em, topic.name, payload, opts, now);
  } catch (err) {
    // already queued: the unique dedupe key says so (MySQL/MariaDB and SQLite keep the transaction usable)
    if (!opts.dedupeKey || !isUniqueViolation(err)) throw err;
    const existing = await em.findOneOrFail(OutboxMessage, { where: { dedupeKey: opts.dedupeKey } });
    return existing.id;
  }
}

async function insertMessage(em: EntityManager, topic: string, payload: object, opts: EnqueueOptions, now: Date): Promise<number> {
  return insertRow(em, OutboxMessage, {
    topic,
    payload: payload as Record<string, unknown>,
    dedupeKey: opts.dedupeKey ?? null,
    status: 'pending',
    attempts: 0,
    maxAttempts: opts.maxAttempts ?? 8,
    nextAttemptAt: new Date(now.getTime() + (opts.delayMs ?? 0)),
    lockedUntil: null,
    lastError: null,
    doneAt: null,
  });
}

/** One outbox row to write: enqueueAll takes them, of any topics. */
export interface OutboxItem {
  topic: OutboxTopic<object>;
  payload: object;
  dedupeKey?: string;
  maxAttempts?: number;
}

/**
 * Queue many side effects, of any topics, in one INSERT. Their dedupe keys must be new (e.g.
 * derived from a state change that itself happens once): a repeat fails the whole statement.
 */
export async function enqueueAll(em: EntityManager, items: readonly OutboxItem[], now: Date = new Date()) {
  if (!items.length) return;
  await insertRows(
    em,
    OutboxMessage,
    items.map((i) => ({
      topic: i.topic.name,
      payload: i.payload as Record<string, unknown>,
      dedupeKey: i.dedupeKey ?? null,
      status: 'pending' as const,
      attempts: 0,
      maxAttempts: i.maxAttempts ?? 8,
      nextAttemptAt: now,
      lockedUntil: null,
      lastError: null,
      doneAt: null,
    })),
  );
}

/** Exponential backoff: 5 s, 10 s, 20 s … capped at 1 h. */
export function backoffMs(attempt: number): number {
  return Math.min(5_000 * 2 ** Math.max(0, attempt - 1), 3_600_000);
}

export class OutboxWorker {
  private handlers = new Map<string, OutboxHandler<object>>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;

  constructor(
    private ds: DataSource,
    private log: Logger,
    private clock: () => Date = () => new Date(),
    private leaseMs = 60_000,
  ) {}

  register<P extends object>(topic: OutboxTopic<P>, handler: OutboxHandler<P>): void {
    if (this.handlers.has(topic.name)) throw new Error(`outbox handler for ${topic.name} registered twice`);
    this.handlers.set(topic.name, handler as OutboxHandler<object>);
  }

  /** Claim due rows (SKIP LOCKED keeps instances apart), lease them, process outside the tx. */
  async runOnce(batch = 20): Promise<number> {
    const now = this.clock();
    const claimed = await withTx(this.ds, async (em) => {
      const rows = await forUpdate(
        em
          .createQueryBuilder(OutboxMessage, 'm')
          .where('m.status = :s', { s: 'pending' })
          .andWhere('m.nextAttemptAt <= :now', { now })
          .andWhere('(m.lockedUntil IS NULL OR m.lockedUntil < :now)', { now })
          .orderBy('m.id', 'ASC')
          .limit(batch),
        'skip_locked',
      ).getMany();
      // leased in one statement: the claim holds its locks for two round trips, not one per row
      const lockedUntil = new Date(now.getTime() + this.leaseMs);
      for (const row of rows) Object.assign(row, { lockedUntil, attempts: row.attempts + 1 });
      await updateByIds(
        em,
        OutboxMessage,
        rows.map((row) => ({ id: row.id, set: { attempts: row.attempts } })),
        { lockedUntil },
      );
      return rows;
    });
    for (const msg of claimed) await this.process(msg);
    return claimed.length;
  }

  /**
   * Retention (the hourly `outbox-retention` job): done messages that were due more than `keepDays`
   * ago leave the working set, `batch` per statement, found through idx_outbox_due. One without a
   * dedupe key is deleted: the bulk (a payment's reactions, invoice polls). One with a key is kept
   * as `archived`, its payload and last error dropped: its key is what stops the same follow-up from
   * being queued twice, and deliveries are counted by key (outboxStatusCounts counts it as done).
   * Pending and dead messages are never touched.
   */
  async prune(keepDays: number, batch = 1000): Promise<{ deleted: number; archived: number }> {
    const cutoff = new Date(this.clock().getTime() - keepDays * 86_400_000);
    const repo = this.ds.getRepository(OutboxMessage);
    const out = { deleted: 0, archived: 0 };
    for (;;) {
      // what is handled leaves the range (deleted or archived): each round reads the next ones
      const rows: { id: number; dedupeKey: string | null }[] = await repo
        .createQueryBuilder('m')
        .select(['m.id AS id', 'm.dedupeKey AS dedupeKey'])
        .where('m.status = :s AND m.nextAttemptAt < :cutoff', { s: 'done', cutoff })
        .limit(batch)
        .getRawMany();
      const keyless = rows.filter((r) => r.dedupeKey === null).map((r) => Number(r.id));
      const keyed = rows.filter((r) => r.dedupeKey !== null).map((r) => Number(r.id));
      if (keyless.length) await repo.delete({ id: In(keyless) });
      if (keyed.length) await repo.update({ id: In(keyed) }, { status: 'archived', payload: {}, lastError: null });
      out.deleted += keyless.length;
      out.archived += keyed.length;
      if (rows.length < batch) return out;
    }
  }

  /** Process until nothing is due (tests, CLI). */
  async drain(maxRounds = 50): Promise<void> {
    for (let i = 0; i < maxRounds; i++) if ((await this.runOnce()) === 0) return;
  }

  private async process(msg: OutboxMessage): Promise<void> {
    const handler = this.handlers.get(msg.topic);
    const repo = this.ds.getRepository(OutboxMessage);
    try {
      if (!handler) throw new PermanentFailure(`no handler for topic ${msg.topic}`);
      await handler(msg.payload, msg);
      await repo.update(msg.id, { status: 'done', doneAt: this.clock(), lockedUntil: null, lastError: null });
      outboxOutcome(msg.topic, 'done');
    } catch (err: any) {
      const permanent = err instanceof PermanentFailure || msg.attempts >= msg.maxAttempts;
      const lastError = String(err?.message ?? err).slice(0, 500);
      this.log.warn({ outboxId: msg.id, topic: msg.topic, attempts: msg.attempts, permanent, error: errorSummary(err) }, 'outbox failure');
      await repo.update(msg.id, {
        status: permanent ? 'dead' : 'pending',
        lockedUntil: null,
        lastError,
        nextAttemptAt: new Date(this.clock().getTime() + backoffMs(msg.attempts)),
      });
      outboxOutcome(msg.topic, permanent ? 'dead' : 'retry');
    }
  }

  /** One tick: a full batch means more are due (a backlog), so go on at once, a few batches at most. */
  private async runBusy(batch = 20, maxBatches = 10): Promise<number> {
    let total = 0;
    for (let i = 0; i < maxBatches && this.timer; i++) {
      const n = await this.runOnce(batch);
      total += n;
      if (n < batch) break;
    }
    return total;
  }

  start(intervalMs = 1_000): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.runBusy().catch((err) => {
        this.log.error({ error: errorSummary(err) }, 'outbox poll failed');
        return 0;
      });
      void this.running.finally(() => (this.running = null));
    }, intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}

export { isUniqueViolation };

/**
 * How the messages whose dedupe key starts with `keyPrefix` fared, by status (done, pending,
 * dead, …): e.g. the deliveries of one announcement, keyed `ann:<id>:r:<resident>`. Modules ask
 * this instead of reading the outbox table.
 */
export async function outboxStatusCounts(em: EntityManager | DataSource, keyPrefix: string): Promise<Record<string, number>> {
  // a plain prefix: no LIKE wildcards (their escaping differs between MariaDB and SQLite)
  if (/[\\%_]/.test(keyPrefix)) throw new Error(`outboxStatusCounts: not a plain key prefix: ${keyPrefix}`);
  const rows: { status: string; n: string | number }[] = await em
    .getRepository(OutboxMessage)
    .createQueryBuilder('o')
    .select('o.status', 'status')
    .addSelect('COUNT(*)', 'n')
    .where('o.dedupeKey LIKE :like', { like: `${keyPrefix}%` })
    .groupBy('o.status')
    .getRawMany();
  const counts: Record<string, number> = {};
  // an archived message is a done one past retention (OutboxWorker.prune)
  for (const r of rows) {
    const status = r.status === 'archived' ? 'done' : r.status;
    counts[status] = (counts[status] ?? 0) + Number(r.n);
  }
  return counts;
}

/** Outbox depth and age for /metrics: pending and dead messages, age of the oldest one due. */
export async function outboxDepth(ds: DataSource, clock: () => Date): Promise<{ pending: number; dead: number; oldestPendingSeconds: number }> {
  const now = clock();
  const rows: { status: string; n: string | number }[] = await ds
    .getRepository(OutboxMessage)
    .createQueryBuilder('o')
    .select('o.status', 'status')
    .addSelect('COUNT(*)', 'n')
    .where('o.status IN (:...s)', { s: ['pending', 'dead'] })
    .groupBy('o.status')
    .getRawMany();
  const oldest = await ds
    .getRepository(OutboxMessage)
    .createQueryBuilder('o')
    .where('o.status = :s AND o.nextAttemptAt <= :now', { s: 'pending', now })
    .orderBy('o.nextAttemptAt', 'ASC')
    .select(['o.id', 'o.nextAttemptAt'])
    .getOne();
  const count = (s: string) => Number(rows.find((r) => r.status === s)?.n ?? 0);
  return {
    pending: count('pending'),
    dead: count('dead'),
    oldestPendingSeconds: oldest ? Math.max(0, (now.getTime() - oldest.nextAttemptAt.getTime()) / 1000) : 0,
  };
}
