import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { ComplaintSource, ComplaintState, WatchTaskKind } from '@heat-butler/shared';
import { instant } from '../../platform/db/columns';

/** 投诉: one complaint about one household, from the app, a city hotline or the phone, with its clocks. */
@Entity('complaint')
@Index('idx_complaint_account', ['accountId', 'createdAt'])
@Index('idx_complaint_area_status', ['areaId', 'status'])
@Index('uq_complaint_external', ['source', 'externalNo'], { unique: true })
export class Complaint {
  @PrimaryGeneratedColumn()
  id: number;

  @Index('uq_complaint_no', { unique: true })
  @Column({ type: 'varchar', length: 24 })
  no: string;

  @Column({ type: 'int' })
  accountId: number;

  @Column({ type: 'int' })
  areaId: number;

  @Column({ type: 'int' })
  buildingId: number;

  /** the resident who filed it in the app; null for one staff registered (hotline, phone) */
  @Column({ type: 'int', nullable: true })
  residentId: number | null;

  @Column({ type: 'int', nullable: true })
  createdByStaffId: number | null;

  @Column({ type: 'varchar', length: 16 })
  source: ComplaintSource;

  /** the hotline's ticket number (12345/12319), unique per source */
  @Column({ type: 'varchar', length: 40, nullable: true })
  externalNo: string | null;

  @Column({ type: 'varchar', length: 500 })
  content: string;

  @Column({ type: 'varchar', length: 20 })
  contactPhone: string;

  @Column({ type: 'varchar', length: 16 })
  status: ComplaintState;

  @Column({ type: 'int', nullable: true })
  handlerId: number | null;

  /** closeHours after filing; agreedCloseHours once the resident's agreement is recorded */
  @Column(instant())
  closeDueAt: Date;

  @Column({ type: 'boolean', default: false })
  extended: boolean;

  @Column({ type: 'varchar', length: 200, nullable: true })
  agreementNote: string | null;

  @Column(instant({ nullable: true }))
  resolvedAt: Date | null;

  @Column({ type: 'varchar', length: 500, nullable: true })
  resolution: string | null;

  @Column(instant({ nullable: true }))
  callbackDueAt: Date | null;

  @Column({ type: 'varchar', length: 12, nullable: true })
  callbackOutcome: string | null;

  @Column(instant({ nullable: true }))
  closedAt: Date | null;

  /** 0 none, 1 supervisor, 2 department head */
  @Column({ type: 'int', default: 0 })
  escalationLevel: number;

  @Column(instant({ nullable: true }))
  escalatedAt: Date | null;

  /** how often an unsatisfied callback sent it back (escalation starts again per round) */
  @Column({ type: 'int', default: 0 })
  reopenCount: number;

  @CreateDateColumn(instant())
  createdAt: Date;

  @UpdateDateColumn(instant())
  updatedAt: Date;
}

/** A task of the watch program (Heihe 004): a first-day visit or a re-measurement after a fix. */
@Entity('watch_task')
@Index('idx_watch_task_area_status', ['areaId', 'status', 'dueAt'])
export class WatchTask {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'varchar', length: 20 })
  kind: WatchTaskKind;

  /** one task per cause: `visit:<season>:<account>`, `remeasure:<ticket>:<round>` */
  @Index('uq_watch_task_key', { unique: true })
  @Column({ type: 'varchar', length: 64 })
  dedupeKey: string;

  @Column({ type: 'int' })
  accountId: number;

  @Column({ type: 'int' })
  areaId: number;

  @Column({ type: 'int', nullable: true })
  repairTicketId: number | null;

  @Column({ type: 'varchar', length: 200 })
  reason: string;

  @Column(instant())
  dueAt: Date;

  @Column({ type: 'varchar', length: 8 })
  status: 'open' | 'done';

  @Column(instant({ nullable: true }))
  doneAt: Date | null;

  @Column({ type: 'int', nullable: true })
  doneBy: number | null;

  @Column({ type: 'int', nullable: true })
  readingDeciC: number | null;

  @Column({ type: 'varchar', length: 300, nullable: true })
  notes: string | null;

  @CreateDateColumn(instant())
  createdAt: Date;
}

export const complaintsEntities = [Complaint, WatchTask];
