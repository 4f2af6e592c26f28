import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import { fenTransformer, instant } from './db/columns';

/** Transactional outbox: side effects written in the same transaction as the state change. */
@Entity('outbox_message')
@Index('idx_outbox_due', ['status', 'nextAttemptAt'])
export class OutboxMessage {
  @PrimaryGeneratedColumn({ type: 'int' })
  id: number;

  @Column({ type: 'varchar', length: 64 })
  topic: string;

  @Column({ type: 'simple-json' })
  payload: Record<string, unknown>;

  /** Optional idempotency key: the same follow-up is queued once. */
  @Index('uq_outbox_dedupe', { unique: true })
  @Column({ type: 'varchar', length: 128, nullable: true })
  dedupeKey: string | null;

  /** pending | done | dead | archived (done, past retention: kept for its dedupe key, payload dropped) */
  @Column({ type: 'varchar', length: 16, default: 'pending' })
  status: string;

  @Column({ type: 'int', default: 0 })
  attempts: number;

  @Column({ type: 'int', default: 8 })
  maxAttempts: number;

  @Column(instant())
  nextAttemptAt: Date;

  @Column(instant({ nullable: true }))
  lockedUntil: Date | null;

  @Column({ type: 'varchar', length: 500, nullable: true })
  lastError: string | null;

  @CreateDateColumn(instant())
  createdAt: Date;

  @Column(instant({ nullable: true }))
  doneAt: Date | null;
}

/** Every state-machine move, for audit and for the timeline residents and staff see. */
@Entity('state_transition')
@Index('idx_transition_subject', ['subjectType', 'subjectId'])
export class StateTransition {
  @PrimaryGeneratedColumn({ type: 'int' })
  id: number;

  @Column({ type: 'varchar', length: 32 })
  subjectType: string;

  @Column({ type: 'int' })
  subjectId: number;

  @Column({ type: 'varchar', length: 32, nullable: true })
  fromState: string | null;

  @Column({ type: 'varchar', length: 32 })
  toState: string;

  /** resident | staff | system */
  @Column({ type: 'varchar', length: 16 })
  actorKind: string;

  @Column({ type: 'int', nullable: true })
  actorId: number | null;

  @Column({ type: 'varchar', length: 500, nullable: true })
  reason: string | null;

  @Column({ type: 'simple-json', nullable: true })
  data: Record<string, unknown> | null;

  @CreateDateColumn(instant())
  at: Date;
}

/** One counter of the limits (platform/limits.ts): tries of a subject in the current window. */
@Entity('rate_counter')
@Index('idx_rate_counter_window', ['windowEnds'])
export class RateCounter {
  /** `<limit>:<subject>` */
  @PrimaryColumn({ type: 'varchar', length: 191 })
  bucket: string;

  @Column({ type: 'int' })
  hits: number;

  /** epoch milliseconds: the window ends (and the count restarts) then */
  @Column({ type: 'bigint', transformer: fenTransformer })
  windowEnds: number;
}

/**
 * The WeChat access token every instance uses (getStableAccessToken), so instances neither fight
 * over it nor each fetch their own: one row per appid, refreshed by one instance at a time.
 */
@Entity('wechat_access_token')
export class WechatAccessToken {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  appid: string;

  /** WeChat says store at least 512 characters */
  @Column({ type: 'varchar', length: 1024 })
  value: string;

  /** when WeChat expires it */
  @Column(instant())
  expiresAt: Date;

  /** when instances should get a new one (a few minutes before expiresAt) */
  @Column(instant())
  refreshAt: Date;
}

/**
 * A scheduled job's lease (platform/jobs.ts): which instance runs it now and until when, and when
 * it is next due. Claimed by one conditional UPDATE, so each tick runs on one instance only.
 */
@Entity('job_lease')
export class JobLease {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  name: string;

  /** `<host>:<pid>:<random>` of the instance holding the lease; null when free */
  @Column({ type: 'varchar', length: 128, nullable: true })
  owner: string | null;

  /** the lease ends then (renewed while the run lasts); null = free */
  @Column(instant({ nullable: true }))
  leasedUntil: Date | null;

  /** the next tick: no instance claims the job before */
  @Column(instant())
  nextRunAt: Date;

  @Column({ type: 'int', default: 0 })
  runs: number;

  @Column(instant({ nullable: true }))
  lastStartedAt: Date | null;

  @Column(instant({ nullable: true }))
  lastFinishedAt: Date | null;

  @Column({ type: 'varchar', length: 500, nullable: true })
  lastError: string | null;
}

export const platformEntities = [OutboxMessage, StateTransition, RateCounter, WechatAccessToken, JobLease];
