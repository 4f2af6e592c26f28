/**
 * Where a run's results go: the day's lease, the discrepancies (written in batches while the bill
 * streams, never all held in memory), the day's totals at the end, and finance's resolutions.
 * Every statement touches at most a few hundred rows (the server's statement limit,
 * DB_QUERY_TIMEOUT_MS, applies to reconciliation as to any request).
 */
import { In, type DataSource, type EntityManager } from 'typeorm';
import type { HealedItem, ReconClassCounts, ReconTotals, BillSummaryTotals, ResolveDiscrepancyRequest, DiscrepancyKind } from '@heat-butler/shared';
import { AppError } from '../../platform/errors';
import { BulkStatement, forUpdate, isUniqueViolation, sqlLiteral, withTx } from '../../platform/db/data-source';
import { insertStamped } from '../../platform/db/timestamps';
import type { StaffPrincipal } from '../../platform/auth';
import { ReconDay, ReconDiscrepancy } from './entities';
import { KeyFilter } from './marks';
import type { Draft } from './types';

const LOCK_MS = 15 * 60_000;
/** differences written per transaction */
const WRITE_BATCH = 2000;
/**
 * transactions writing at once (separate connections): with 3 the database always has a batch to
 * insert while node classifies the next (1,000,000 differences: 15.5–16.3 s against 17.5–19.7 s
 * with 2, runs interleaved; 4 no faster, 20 MB more RSS)
 */
const WRITERS = 3;
/** rows per INSERT / keys per IN list */
const STATEMENT_ROWS = 500;
/** ids per UPDATE when clearing what a re-run no longer finds */
const CLEAR_BATCH = 1000;

/** Create the day if new and take its lease; two runs of one day never interleave. Returns the run's number. */
export async function claimDay(ds: DataSource, billDate: string, now: Date): Promise<number> {
  const repo = ds.getRepository(ReconDay);
  if (!(await repo.exists({ where: { billDate } }))) {
    try {
      await repo.insert({ billDate, status: 'none', healed: [], runs: 0, emptyBill: false });
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
    }
  }
  const res = await repo
    .createQueryBuilder()
    .update(ReconDay)
    .set({ lockedUntil: new Date(now.getTime() + LOCK_MS), runSeq: () => 'runSeq + 1' })
    .where('billDate = :billDate', { billDate })
    .andWhere('(lockedUntil IS NULL OR lockedUntil < :now)', { now })
    .execute();
  if (!res.affected) throw new AppError('RECON_BUSY', { billDate });
  return (await repo.findOneByOrFail({ billDate })).runSeq;
}

export async function releaseDay(ds: DataSource, billDate: string) {
  await ds.getRepository(ReconDay).update({ billDate }, { lockedUntil: null });
}

/**
 * Moves the day's counts by what a transaction did to its differences, in that transaction (so
 * the counts are never a row off, whatever fails). Last in its transaction: the day's row is then
 * locked only until the commit.
 */
async function countDifferences(em: EntityManager, billDate: string, by: { open: number; total?: number }) {
  const total = by.total ?? 0;
  if (!by.open && !total) return;
  await em
    .createQueryBuilder()
    .update(ReconDay)
    .set({ openDiscrepancies: () => 'openDiscrepancies + :open', totalDiscrepancies: () => 'totalDiscrepancies + :total' })
    .where('billDate = :billDate', { billDate, open: by.open, total })
    .execute();
}

const changed = (old: ReconDiscrepancy, d: Draft) =>
  old.kind !== d.kind ||
  Number(old.diffFen) !== d.diffFen ||
  JSON.stringify(old.wechat) !== JSON.stringify(d.wechat) ||
  JSON.stringify(old.ledger) !== JSON.stringify(d.ledger);

/**
 * A run's discrepancies, written as they are found: each key once per run (the day's unique key
 * decides, a Bloom filter keeps the checks off the database for keys never seen), a resolved one
 * never reopened, an open one refreshed when its sides changed. Holds at most one batch.
 */
export class DiscrepancyWriter {
  /** discrepancies of this run by kind (each key once) */
  readonly counts: Partial<Record<DiscrepancyKind, number>> = {};
  private pending = new Map<string, Draft>();
  /** pending keys the filter may have seen before: checked against the database at the flush */
  private uncertain: string[] = [];
  private filter = new KeyFilter();
  /** refs recorded without a discrepancy (healed, refunds in transit): few, kept exactly */
  private others = new Set<string>();
  /** the day had discrepancies before this run (else every key is new: plain inserts) */
  private hadRows: boolean | null = null;
  /** the batch being written (its keys count as recorded until the write is done) */
  private writing = new Set<Map<string, Draft>>();
  private inflight: Promise<void>[] = [];
  private insert: { prefix: string; row: string; full: BulkStatement } | null = null;

  constructor(
    private ds: DataSource,
    private billDate: string,
    private runSeq: number,
    /** the run's time (the app's clock): each difference it writes was created and updated then */
    private now: Date,
    private batchRows = WRITE_BATCH,
  ) {}

  /** Record a difference (once per key per run). Call `flushIfFull()` after a batch of adds. */
  add(d: Draft) {
    if (this.pending.has(d.key)) return;
    if (this.filter.addIfNew(d.key)) this.uncertain.push(d.key);
    this.pending.set(d.key, d);
  }

  /** A ref this run settled without a discrepancy (healed, in transit): a repeat of it is a duplicate row. */
  remember(ref: string) {
    this.others.add(ref);
    this.filter.add(ref);
  }

  /** Which of `keys` this run recorded already (a discrepancy, pending or written, or a remembered ref). */
  async seen(keys: string[]): Promise<Set<string>> {
    const out = new Set<string>();
    const ask: string[] = [];
    for (const k of keys) {
      if (!this.filter.mightHave(k)) continue;
      if (this.pending.has(k) || this.isWriting(k) || this.others.has(k)) out.add(k);
      else ask.push(k);
    }
    for (const k of await this.written(ask)) out.add(k);
    return out;
  }

  /** keys written by this run */
  private async written(keys: string[]): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < keys.length; i += STATEMENT_ROWS) {
      const rows = await this.ds
        .getRepository(ReconDiscrepancy)
        .createQueryBuilder('d')
        .select('d.key', 'key')
        .where({ billDate: this.billDate, seenRun: this.runSeq, key: In(keys.slice(i, i + STATEMENT_ROWS)) })
        .getRawMany<{ key: string }>();
      for (const r of rows) out.push(r.key);
    }
    return out;
  }

  private isWriting(key: string): boolean {
    for (const b of this.writing) if (b.has(key)) return true;
    return false;
  }

  /** Start writing the pending batch when it is full; the next batches are collected meanwhile (WRITERS writes in flight). */
  async flushIfFull() {
    if (this.pending.size >= this.batchRows) await this.flush(false);
  }

  /** Write what is pending; `wait` (default): and wait until every write is done. */
  async flush(wait = true) {
    if (this.pending.size) {
      const batch = this.pending;
      this.pending = new Map();
      this.hadRows ??= await this.ds.getRepository(ReconDiscrepancy).exists({ where: { billDate: this.billDate } });
      while (this.inflight.length >= WRITERS) await this.inflight.shift();
      // a key the filter may have seen: in a batch being written (exact, in memory) or already committed (the database)
      const inFlight = new Set(this.uncertain.filter((k) => this.isWriting(k)));
      const committed = this.uncertain.filter((k) => !inFlight.has(k));
      this.uncertain = [];
      this.writing.add(batch);
      const write = this.writeBatch(batch, inFlight, committed).finally(() => this.writing.delete(batch));
      write.catch(() => undefined); // awaited at a later flush or the end
      this.inflight.push(write);
    }
    if (wait) while (this.inflight.length) await this.inflight.shift();
  }

  private async writeBatch(batch: Map<string, Draft>, inFlight: Set<string>, committed: string[]) {
    let drafts = [...batch.values()];
    if (inFlight.size || committed.length) {
      const dup = new Set([...inFlight, ...(await this.written(committed))]);
      drafts = drafts.filter((d) => !dup.has(d.key));
    }
    for (const d of drafts) this.counts[d.kind] = (this.counts[d.kind] ?? 0) + 1;
    // a few statements per transaction: one commit (one log flush) per batch, not per statement
    await withTx(this.ds, async (em) => {
      let added = 0;
      for (let i = 0; i < drafts.length; i += STATEMENT_ROWS) added += await this.write(em, drafts.slice(i, i + STATEMENT_ROWS));
      await countDifferences(em, this.billDate, { open: added, total: added });
    });
  }

  /** Writes a statement's worth of differences; returns how many rows it added (each open). */
  private async write(em: EntityManager, drafts: Draft[]): Promise<number> {
    let fresh = drafts;
    if (this.hadRows) {
      const repo = em.getRepository(ReconDiscrepancy);
      const existing = new Map((await repo.find({ where: { billDate: this.billDate, key: In(drafts.map((d) => d.key)) } })).map((d) => [d.key, d]));
      fresh = [];
      const seen: string[] = [];
      for (const d of drafts) {
        const old = existing.get(d.key);
        if (!old) fresh.push(d);
        else if (old.status === 'open' && changed(old, d))
          await repo.update(
            { billDate: this.billDate, key: d.key },
            { kind: d.kind, wechat: d.wechat as any, ledger: d.ledger as any, diffFen: d.diffFen, seenRun: this.runSeq },
          );
        else seen.push(d.key); // a resolved one is never reopened, only noted as found again
      }
      if (seen.length)
        await repo
          .createQueryBuilder()
          .update(ReconDiscrepancy)
          .set({ seenRun: this.runSeq })
          .where({ billDate: this.billDate, key: In(seen) })
          .execute();
    }
    if (!fresh.length) return 0;
    // one multi-row INSERT with plain placeholders (TypeORM's insert builder spends more CPU than the
    // database on 500 rows), prepared: the day's million differences are a few thousand executions
    const insert = (this.insert ??= this.insertShape());
    const params: unknown[] = [];
    for (const d of fresh)
      params.push(
        d.key,
        d.kind,
        d.outTradeNo,
        d.outRefundNo,
        d.wechat ? JSON.stringify(d.wechat) : null,
        d.ledger ? JSON.stringify(d.ledger) : null,
        d.diffFen,
      );
    // a full statement (one string, built once) is prepared once per connection; a batch's remainder (any size) is not
    if (fresh.length === STATEMENT_ROWS) await insert.full.run(em, params);
    else await em.query(insert.prefix + fresh.map(() => insert.row).join(', '), params);
    return fresh.length;
  }

  /**
   * The INSERT: a difference's own columns as parameters, in the order write() gives them; what is
   * the same for the whole run (its day, 'open', its number, and the app-clock stamps of
   * insertStamped: the run's time, not the database's CURRENT_TIMESTAMP, whose zone and clock are the
   * server's) written into the SQL once.
   */
  private insertShape() {
    const meta = this.ds.getMetadata(ReconDiscrepancy);
    const q = (s: string) => this.ds.driver.escape(s);
    const col = (p: string) => q(meta.findColumnWithPropertyName(p)!.databaseName);
    const params = ['key', 'kind', 'outTradeNo', 'outRefundNo', 'wechat', 'ledger', 'diffFen'];
    const constants: [string, string][] = [
      [col('billDate'), sqlLiteral(this.billDate)],
      [col('status'), sqlLiteral('open')],
      [col('seenRun'), sqlLiteral(this.runSeq)],
      ...insertStamped(meta).map((c): [string, string] => [q(c.databaseName), sqlLiteral(this.now)]),
    ];
    const prefix = `INSERT INTO ${q(meta.tableName)} (${[...params.map(col), ...constants.map(([c]) => c)].join(', ')}) VALUES `;
    const row = `(${[...params.map(() => '?'), ...constants.map(([, v]) => v)].join(', ')})`;
    return { prefix, row, full: new BulkStatement(prefix + Array.from({ length: STATEMENT_ROWS }, () => row).join(', ')) };
  }

  /** Done writing (also after a failure): the run's statement is unprepared wherever it was prepared. */
  close() {
    this.insert?.full.close();
  }

  /**
   * After the run: what was open and this run did not find again (healed meanwhile, a late
   * notification) is resolved by the system at the run's time and kept; paged in key order (the
   * primary key's).
   */
  async clearNotFound() {
    // the day had no discrepancy when this run wrote its first: every one is this run's, none to
    // clear (and no scan of them: a million differences took 2.5 s to page through here)
    if (this.hadRows === false) return;
    const repo = this.ds.getRepository(ReconDiscrepancy);
    for (let after = ''; ;) {
      const rows = await repo
        .createQueryBuilder('d')
        .select(['d.billDate', 'd.key'])
        .where('d.billDate = :b AND d.key > :after AND d.status = :s AND d.seenRun <> :run', { b: this.billDate, s: 'open', run: this.runSeq, after })
        .orderBy('d.key', 'ASC')
        .limit(CLEAR_BATCH)
        .getMany();
      if (!rows.length) return;
      await withTx(this.ds, async (em) => {
        // still open: one finance settled meanwhile keeps its resolution (and is not counted twice)
        const res = await em.update(
          ReconDiscrepancy,
          { billDate: this.billDate, key: In(rows.map((r) => r.key)), status: 'open' },
          {
            status: 'resolved',
            resolution: 'cleared_on_rerun',
            note: '重新对账时该差异已不存在',
            resolvedBy: null,
            resolvedByName: '系统',
            resolvedAt: this.now,
          },
        );
        await countDifferences(em, this.billDate, { open: -(res.affected ?? 0) });
      });
      after = rows[rows.length - 1]!.key;
    }
  }
}

export interface DayResult {
  wechat: ReconTotals;
  summary: BillSummaryTotals | null;
  summaryMatches: boolean | null;
  ledger: ReconTotals;
  classes: ReconClassCounts;
  healed: HealedItem[];
}

/** The day's totals and status once its discrepancies are written (status from its open count). */
export async function saveDay(
  ds: DataSource,
  billDate: string,
  now: Date,
  out: DayResult,
  bill: { hash: string | null; file: string | null; bytes: number | null; empty: boolean },
) {
  await withTx(ds, async (em) => {
    const day = await forUpdate(em.createQueryBuilder(ReconDay, 'd').where('d.billDate = :billDate', { billDate })).getOneOrFail();
    const healed = [...day.healed];
    for (const h of out.healed) if (!healed.some((x) => x.ref === h.ref)) healed.push(h);
    const status = day.openDiscrepancies ? 'differences' : 'balanced';
    await em.update(ReconDay, day.id, {
      status,
      wechat: out.wechat,
      summary: out.summary,
      summaryMatches: out.summaryMatches,
      ledger: out.ledger,
      classes: out.classes,
      healed,
      emptyBill: bill.empty,
      billHash: bill.hash,
      billFile: bill.file,
      billBytes: bill.bytes,
      runs: day.runs + 1,
      lastRunAt: now,
      lastError: null,
      nextAttemptAt: null,
      closedAt: status === 'balanced' ? (day.closedAt ?? now) : null,
    });
  });
}

/** Finance settles one difference with a type and a note; the last one closes the day (exactly once). */
export async function resolveDiscrepancy(
  ds: DataSource,
  now: Date,
  staff: StaffPrincipal,
  /** its primary key */
  at: Pick<ReconDiscrepancy, 'billDate' | 'key'>,
  input: ResolveDiscrepancyRequest,
): Promise<void> {
  await withTx(ds, async (em) => {
    const d = await forUpdate(em.createQueryBuilder(ReconDiscrepancy, 'd').where('d.billDate = :b AND d.key = :k', { b: at.billDate, k: at.key })).getOne();
    if (!d) throw new AppError('DISCREPANCY_NOT_FOUND');
    if (d.status === 'resolved') throw new AppError('DISCREPANCY_ALREADY_RESOLVED', { resolution: d.resolution, resolvedBy: d.resolvedByName });
    // the day row is locked too: the last resolution closes it exactly once
    const day = await forUpdate(em.createQueryBuilder(ReconDay, 'x').where('x.billDate = :b', { b: d.billDate })).getOneOrFail();
    await em.update(
      ReconDiscrepancy,
      { billDate: d.billDate, key: d.key },
      {
        status: 'resolved',
        resolution: input.resolution as any,
        note: input.note.trim(),
        resolvedBy: staff.staffId,
        resolvedByName: staff.name,
        resolvedAt: now,
      },
    );
    await countDifferences(em, d.billDate, { open: -1 });
    if (day.openDiscrepancies <= 1 && day.status === 'differences') await em.update(ReconDay, day.id, { status: 'balanced', closedAt: now });
  });
}
