import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { BillSummaryTotals, DiscrepancyKind, HealedItem, ReconClassCounts, ReconDayStatus, ReconTotals, ResolutionType } from '@heat-butler/shared';
import { instant, money } from '../../platform/db/columns';

/**
 * One bill date's reconciliation: the latest run's totals (bill rows, bill summary, ledger) and
 * classes. The raw bill is kept as a file (`billFile`, under the bill directory, named by date and
 * SHA1), never in the database: a busy day's bill is hundreds of megabytes.
 */
@Entity('recon_day')
@Index('idx_recon_day_status', ['status'])
export class ReconDay {
  @PrimaryGeneratedColumn({ type: 'int' })
  id: number;

  /** China date, YYYY-MM-DD */
  @Index('uq_recon_day_date', { unique: true })
  @Column({ type: 'varchar', length: 10 })
  billDate: string;

  @Column({ type: 'varchar', length: 12 })
  status: ReconDayStatus;

  @Column({ type: 'simple-json', nullable: true })
  wechat: ReconTotals | null;

  @Column({ type: 'simple-json', nullable: true })
  summary: BillSummaryTotals | null;

  @Column({ type: 'boolean', nullable: true })
  summaryMatches: boolean | null;

  @Column({ type: 'simple-json', nullable: true })
  ledger: ReconTotals | null;

  @Column({ type: 'simple-json', nullable: true })
  classes: ReconClassCounts | null;

  /** every 长款 the runs healed (kept across re-runs, which then see them matched) */
  @Column({ type: 'simple-json' })
  healed: HealedItem[];

  @Column({ type: 'boolean', default: false })
  emptyBill: boolean;

  @Column({ type: 'varchar', length: 64, nullable: true })
  billHash: string | null;

  @Column({ type: 'varchar', length: 255, nullable: true })
  billFile: string | null;

  @Column(money({ nullable: true }))
  billBytes: number | null;

  @Column({ type: 'int', default: 0 })
  runs: number;

  /**
   * The day's differences, open and in all: kept in the transaction of every change (a batch
   * written, a re-run's clearing, a resolution), so the calendar and the day's status never count
   * rows, and the differences need no status index (which cost a million-difference run a fifth).
   */
  @Column({ type: 'int', default: 0 })
  openDiscrepancies: number;

  @Column({ type: 'int', default: 0 })
  totalDiscrepancies: number;

  @Column(instant({ nullable: true }))
  lastRunAt: Date | null;

  @Column({ type: 'varchar', length: 500, nullable: true })
  lastError: string | null;

  /** not ready / failed: when the scheduler tries again */
  @Column(instant({ nullable: true }))
  nextAttemptAt: Date | null;

  /** a run holds the day until then (two runs of one day never interleave) */
  @Column(instant({ nullable: true }))
  lockedUntil: Date | null;

  /** counts the runs that took the lease (failed ones too): the number a run stamps on what it finds */
  @Column({ type: 'int', default: 0 })
  runSeq: number;

  @Column(instant({ nullable: true }))
  closedAt: Date | null;

  @CreateDateColumn(instant())
  createdAt: Date;

  @UpdateDateColumn(instant())
  updatedAt: Date;
}

/**
 * One difference of one day, for a human. Never deleted; its key is the day and its own key, so a
 * re-run adds nothing. That key is the primary key: the rows are stored in the order a day's
 * differences are read (and cleared) in, and a run's million inserts keep one index, not two (a
 * surrogate id beside a unique (day, key) cost the database a quarter more per difference written).
 * The day's counts are on recon_day.
 */
@Entity('recon_discrepancy')
export class ReconDiscrepancy {
  /** China date, YYYY-MM-DD */
  @PrimaryColumn({ type: 'varchar', length: 10 })
  billDate: string;

  /** `pay:<out_trade_no>`, `refund:<out_refund_no>`, `dup:<ref>`, `duppay:<out_trade_no>`, `totals` */
  @PrimaryColumn({ type: 'varchar', length: 100 })
  key: string;

  @Column({ type: 'varchar', length: 16 })
  kind: DiscrepancyKind;

  @Column({ type: 'varchar', length: 64, nullable: true })
  outTradeNo: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  outRefundNo: string | null;

  @Column({ type: 'simple-json', nullable: true })
  wechat: Record<string, unknown> | null;

  @Column({ type: 'simple-json', nullable: true })
  ledger: Record<string, unknown> | null;

  /** WeChat minus ledger, fen */
  @Column(money({ default: 0 }))
  diffFen: number;

  @Column({ type: 'varchar', length: 8 })
  status: 'open' | 'resolved';

  /** the day's `runSeq` of the last run that found it: an open one a run did not find is cleared */
  @Column({ type: 'int', default: 0 })
  seenRun: number;

  @Column({ type: 'varchar', length: 20, nullable: true })
  resolution: ResolutionType | null;

  @Column({ type: 'varchar', length: 500, nullable: true })
  note: string | null;

  /** staff id; NULL with a resolution = the system (cleared on re-run) */
  @Column({ type: 'int', nullable: true })
  resolvedBy: number | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  resolvedByName: string | null;

  @Column(instant({ nullable: true }))
  resolvedAt: Date | null;

  @CreateDateColumn(instant())
  createdAt: Date;

  @UpdateDateColumn(instant())
  updatedAt: Date;
}

export const reconciliationEntities = [ReconDay, ReconDiscrepancy];
