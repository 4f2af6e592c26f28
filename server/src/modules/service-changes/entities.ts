import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { ReviewProblem, ServiceChangeDocument, ServiceChangeKind, ServiceChangeState, ValveAction, ValveOrderState } from '@heat-butler/shared';
import { instant, money } from '../../platform/db/columns';

/** 报停/复供申请: one account, one season, one kind; fixed and resubmitted in place after a rejection. */
@Entity('service_change')
@Index('idx_service_change_account_season', ['accountId', 'seasonId'])
@Index('idx_service_change_area_state', ['areaId', 'state'])
@Index('idx_service_change_bill_state', ['billId', 'state'])
export class ServiceChange {
  @PrimaryGeneratedColumn({ type: 'int' })
  id: number;

  @Column({ type: 'varchar', length: 8 })
  kind: ServiceChangeKind;

  @Column({ type: 'int' })
  accountId: number;

  @Column({ type: 'int' })
  areaId: number;

  @Column({ type: 'int' })
  buildingId: number;

  @Column({ type: 'int' })
  seasonId: number;

  @Column({ type: 'varchar', length: 9 })
  seasonCode: string;

  @Column({ type: 'varchar', length: 20 })
  state: ServiceChangeState;

  /** `${accountId}:${seasonId}` while the application is open, null once done/cancelled/closed: one open application per account and season */
  @Index('uq_service_change_open', { unique: true })
  @Column({ type: 'varchar', length: 32, nullable: true })
  openKey: string | null;

  /** the resident who applied (null when filed at the counter) */
  @Column({ type: 'int', nullable: true })
  residentId: number | null;

  /** the staff member who filed it at the counter */
  @Column({ type: 'int', nullable: true })
  filedByStaffId: number | null;

  @Column({ type: 'simple-json' })
  documents: ServiceChangeDocument[];

  /** the problems of the last rejection, every one at once */
  @Column({ type: 'simple-json' })
  problems: ReviewProblem[];

  @Column({ type: 'varchar', length: 200, nullable: true })
  note: string | null;

  /** accepted after the deadline by an admin, with the reason */
  @Column({ type: 'boolean', default: false })
  late: boolean;

  @Column({ type: 'varchar', length: 200, nullable: true })
  lateReason: string | null;

  /** the season's bill it re-priced (set on approval) */
  @Column({ type: 'int', nullable: true })
  billId: number | null;

  /** stop on a paid full bill: paid over the base fee, owed back */
  @Column(money({ default: 0 }))
  refundDueFen: number;

  @Column(instant({ nullable: true }))
  approvedAt: Date | null;

  @Column(instant({ nullable: true }))
  doneAt: Date | null;

  @CreateDateColumn(instant())
  createdAt: Date;

  @UpdateDateColumn(instant())
  updatedAt: Date;
}

/** 阀门工单: close / open / seal one household's valve, for the building's substation crew. */
@Entity('valve_work_order')
@Index('idx_valve_order_area_state', ['areaId', 'state'])
export class ValveWorkOrder {
  @PrimaryGeneratedColumn({ type: 'int' })
  id: number;

  @Index('uq_valve_order_application', { unique: true })
  @Column({ type: 'int' })
  applicationId: number;

  @Column({ type: 'int' })
  accountId: number;

  @Column({ type: 'int' })
  areaId: number;

  @Column({ type: 'int' })
  buildingId: number;

  @Column({ type: 'varchar', length: 50, nullable: true })
  substation: string | null;

  @Column({ type: 'varchar', length: 9 })
  seasonCode: string;

  @Column({ type: 'varchar', length: 8 })
  action: ValveAction;

  @Column({ type: 'varchar', length: 12 })
  state: ValveOrderState;

  /** China date the work is due by (the day before the season starts) */
  @Column({ type: 'varchar', length: 10 })
  dueDate: string;

  @Column(instant({ nullable: true }))
  doneAt: Date | null;

  @Column({ type: 'int', nullable: true })
  doneByStaffId: number | null;

  @Column({ type: 'varchar', length: 500, nullable: true })
  photoUrl: string | null;

  /** the site photo is kept until then (company retention rule, 3 years by default) */
  @Column(instant({ nullable: true }))
  photoKeepUntil: Date | null;

  @Column({ type: 'varchar', length: 200, nullable: true })
  note: string | null;

  @CreateDateColumn(instant())
  createdAt: Date;

  @UpdateDateColumn(instant())
  updatedAt: Date;
}

export const serviceChangesEntities = [ServiceChange, ValveWorkOrder];
