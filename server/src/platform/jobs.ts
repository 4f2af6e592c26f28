/**
 * Scheduled jobs shared by every instance: each job has a row in `job_lease`, and an instance
 * runs a tick only after claiming that row with one conditional UPDATE
 *
 *   UPDATE job_lease SET owner = me, leasedUntil = now + lease, nextRunAt = now + every, runs = runs + 1
 *    WHERE name = :job AND nextRunAt <= now AND (leasedUntil IS NULL OR leasedUntil < now)
 *
 * which one instance wins (the database serialises the UPDATEs; on SQLite there is one writer
 * anyway). So a job runs once per tick across all instances, never twice at once, and the next
 * tick is measured from the claim, wherever it ran. The lease is renewed while the run lasts and
 * released at its end; an instance that dies mid-run leaves a lease that expires, and the next
 * tick after that is claimed by another instance. Every instance polls (JOB_POLL_MS) and the
 * first to find a job due takes it.
 *
 * Why the database and not a Redis job library (BullMQ): every instance already has the
 * database and Redis is optional (realtime fan-out only); the jobs are a handful of periodic
 * sweeps whose work is itself guarded by row locks and unique keys, so a lease row per job is all
 * the coordination they need, works the same on MySQL/MariaDB and SQLite, and is visible with a
 * SELECT. Per-message work (the outbox) keeps its own row claims (SKIP LOCKED), which spread
 * messages over instances instead of serialising them on one.
 */
import crypto from 'node:crypto';
import os from 'node:os';
import type { DataSource } from 'typeorm';
import { JobLease } from './entities';
import { insertRow, isUniqueViolation } from './db/data-source';
import type { Logger } from './logger';
import { errorSummary } from './errors';
import { jobRun } from './metrics';

export interface JobSpec {
  name: string;
  everyMs: number;
  /** longest a run may take before another instance may take the job over (renewed while running) */
  leaseMs?: number;
  /** a job never run before (no row yet) is first due this long after the first instance starts (default 0) */
  firstDelayMs?: number;
  run: () => Promise<unknown>;
}

export type TickOutcome = 'ran' | 'failed' | 'not_due';

export class JobScheduler {
  readonly owner = `${os.hostname()}:${process.pid}:${crypto.randomBytes(3).toString('hex')}`;
  private jobs = new Map<string, JobSpec>();
  private timer: NodeJS.Timeout | null = null;
  private running = new Map<string, Promise<TickOutcome>>();
  private stopped = false;

  constructor(
    private ds: DataSource,
    private log: Logger,
    private clock: () => Date = () => new Date(),
  ) {}

  add(spec: JobSpec): void {
    if (this.jobs.has(spec.name)) throw new Error(`job ${spec.name} added twice`);
    this.jobs.set(spec.name, spec);
  }

  /** Poll every `pollMs`: run each job whose tick is due and whose lease this instance wins. */
  start(pollMs: number): void {
    if (this.timer) return;
    this.stopped = false;
    this.timer = setInterval(() => {
      for (const name of this.jobs.keys()) if (!this.running.has(name)) void this.tick(name);
    }, pollMs);
    this.timer.unref();
  }

  /** Stop polling and wait for the runs in progress (shutdown: claimed work is finished). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await Promise.allSettled([...this.running.values()]);
  }

  /** One attempt at a job's tick: claim, run, release. Tests call it directly. */
  tick(name: string): Promise<TickOutcome> {
    const current = this.running.get(name);
    if (current) return current;
    const p = this.attempt(name).finally(() => this.running.delete(name));
    this.running.set(name, p);
    return p;
  }

  private async attempt(name: string): Promise<TickOutcome> {
    const spec = this.jobs.get(name);
    if (!spec) throw new Error(`no job ${name}`);
    if (this.stopped) return 'not_due';
    const leaseMs = spec.leaseMs ?? 15 * 60_000;
    let claimed: boolean;
    try {
      claimed = await this.claim(spec, leaseMs);
    } catch (err) {
      this.log.warn({ job: name, error: errorSummary(err) }, 'job lease: claim failed');
      return 'not_due';
    }
    if (!claimed) return 'not_due';
    const started = performance.now();
    const renew = setInterval(() => void this.renew(name, leaseMs), Math.max(1_000, Math.floor(leaseMs / 3)));
    renew.unref();
    let error: unknown = null;
    try {
      await spec.run();
    } catch (err) {
      error = err;
      this.log.error({ job: name, error: errorSummary(err) }, `${name} failed`);
    } finally {
      clearInterval(renew);
    }
    jobRun(name, !error, (performance.now() - started) / 1000);
    await this.ds
      .createQueryBuilder()
      .update(JobLease)
      .set({ owner: null, leasedUntil: null, lastFinishedAt: this.clock(), lastError: error ? String((error as Error)?.message ?? error).slice(0, 500) : null })
      .where('name = :name AND owner = :owner', { name, owner: this.owner })
      .execute()
      .catch((err) => this.log.warn({ job: name, error: errorSummary(err) }, 'job lease: release failed'));
    return error ? 'failed' : 'ran';
  }

  private async claim(spec: JobSpec, leaseMs: number): Promise<boolean> {
    const now = this.clock();
    const res = await this.ds
      .createQueryBuilder()
      .update(JobLease)
      .set({
        owner: this.owner,
        leasedUntil: new Date(now.getTime() + leaseMs),
        nextRunAt: new Date(now.getTime() + spec.everyMs),
        runs: () => 'runs + 1',
        lastStartedAt: now,
      })
      .where('name = :name', { name: spec.name })
      .andWhere('nextRunAt <= :now', { now })
      .andWhere('(leasedUntil IS NULL OR leasedUntil < :now)', { now })
      .execute();
    if (res.affected) return true;
    if (res.affected === 0 && !(await this.ds.getRepository(JobLease).existsBy({ name: spec.name }))) {
      // first tick ever of this job: create its row, then claim like everyone else
      const due = new Date(now.getTime() + (spec.firstDelayMs ?? 0));
      try {
        await insertRow(this.ds.manager, JobLease, {
          name: spec.name,
          owner: null,
          leasedUntil: null,
          nextRunAt: due,
          runs: 0,
          lastStartedAt: null,
          lastFinishedAt: null,
          lastError: null,
        });
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
      }
      return due <= now && this.claim(spec, leaseMs);
    }
    return false;
  }

  private async renew(name: string, leaseMs: number): Promise<void> {
    await this.ds
      .createQueryBuilder()
      .update(JobLease)
      .set({ leasedUntil: new Date(this.clock().getTime() + leaseMs) })
      .where('name = :name AND owner = :owner', { name, owner: this.owner })
      .execute()
      .catch((err) => this.log.warn({ job: name, error: errorSummary(err) }, 'job lease: renewal failed'));
  }
}
