import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { MeasurementState, RepairCategory, RepairSide, RepairState } from '@heat-butler/shared';
import { instant, money } from '../../platform/db/columns';

/** 报修单: one repair request of a resident for one bound account, with its SLA deadlines. */
@Entity('repair_ticket')
@Index('idx_repair_resident', ['residentId', 'createdAt'])
@Index('idx_repair_area_status', ['areaId', 'status'])
@Index('idx_repair_assignee', ['assigneeId', 'status'])
// the complaint watch's cold fixes: low-temperature tickets resolved since a time (coldFixesSince)
@Index('idx_repair_category_resolved', ['category', 'resolvedAt'])
export class RepairTicket {
  @PrimaryGeneratedColumn({ type: 'int' })
  id: number;

  /** BX + China date + id, e.g. BX20261125000123 */
  @Index('uq_repair_no', { unique: true })
  @Column({ type: 'varchar', length: 24 })
  no: string;

  @Column({ type: 'int' })
  residentId: number;

  @Column({ type: 'int' })
  accountId: number;

  @Column({ type: 'int' })
  areaId: number;

  @Column({ type: 'int' })
  buildingId: number;

  @Column({ type: 'varchar', length: 16 })
  category: RepairCategory;

  @Column({ type: 'boolean', default: false })
  emergency: boolean;

  @Column({ type: 'varchar', length: 500 })
  description: string;

  /** upload keys (up_…) or http(s) URLs, at most 9 */
  @Column({ type: 'simple-json' })
  photos: string[];

  @Column(instant({ nullable: true }))
  slotStart: Date | null;

  @Column(instant({ nullable: true }))
  slotEnd: Date | null;

  @Column({ type: 'varchar', length: 20 })
  contactPhone: string;

  /** the resident's own reading for 室温不达标, tenths of °C */
  @Column({ type: 'int', nullable: true })
  residentReadingDeciC: number | null;

  @Column({ type: 'varchar', length: 20 })
  status: RepairState;

  @Column({ type: 'int', nullable: true })
  assigneeId: number | null;

  @Column(instant({ nullable: true }))
  assignedAt: Date | null;

  /** who is responsible: the company's pipes or the resident's own installation */
  @Column({ type: 'varchar', length: 10, nullable: true })
  side: RepairSide | null;

  @Column({ type: 'simple-json', nullable: true })
  priceItems: { code: string; name: string; qty: number; priceFen: number }[] | null;

  @Column(money({ nullable: true }))
  priceFen: number | null;

  @Column(instant({ nullable: true }))
  consentAt: Date | null;

  @Column(instant({ nullable: true }))
  contactedAt: Date | null;

  @Column(instant({ nullable: true }))
  onSiteAt: Date | null;

  @Column(instant({ nullable: true }))
  resolvedAt: Date | null;

  @Column(instant({ nullable: true }))
  closedAt: Date | null;

  @Column({ type: 'varchar', length: 500, nullable: true })
  resolution: string | null;

  @Column({ type: 'simple-json', nullable: true })
  resolutionPhotos: string[] | null;

  @Column({ type: 'simple-json', nullable: true })
  materials: { name: string; qty: number }[] | null;

  // ---- SLA deadlines (UTC instants computed in China time from CompanyRules) ----
  /** by when a butler/worker holds it (Harbin 003: 10 min); null on tickets older than the clock */
  @Column(instant({ nullable: true }))
  dispatchDueAt: Date | null;

  @Column(instant())
  contactDueAt: Date;

  @Column(instant({ nullable: true }))
  onSiteDueAt: Date | null;

  @Column(instant())
  doneDueAt: Date;

  /** emergencies: report within emergencyReportMinutes of finishing */
  @Column(instant({ nullable: true }))
  reportDueAt: Date | null;

  /** emergencies: when the crew reported the result (the report deadline is met) */
  @Column(instant({ nullable: true }))
  reportedAt: Date | null;

  @Column({ type: 'varchar', length: 500, nullable: true })
  report: string | null;

  @Column(instant({ nullable: true }))
  callbackDueAt: Date | null;

  /** 0 none, 1 supervisor, 2 department head */
  @Column({ type: 'int', default: 0 })
  escalationLevel: number;

  @Column(instant({ nullable: true }))
  escalatedAt: Date | null;

  @Column({ type: 'int', default: 0 })
  reopenCount: number;

  /** 催单: how often the resident urged the overdue ticket, and when last */
  @Column({ type: 'int', default: 0 })
  urgeCount: number;

  @Column(instant({ nullable: true }))
  lastUrgedAt: Date | null;

  /** 改约: how often the resident moved the booked visit (Zibo 001: once) */
  @Column({ type: 'int', default: 0 })
  slotChanges: number;

  @Column({ type: 'int', nullable: true })
  rating: number | null;

  @Column({ type: 'varchar', length: 200, nullable: true })
  ratingComment: string | null;

  @CreateDateColumn(instant())
  createdAt: Date;

  @UpdateDateColumn(instant())
  updatedAt: Date;
}

/** Who held a ticket when: automatic dispatch, dispatcher reassignment, or a worker's grab. */
@Entity('repair_assignment')
@Index('idx_repair_assignment_ticket', ['ticketId'])
export class RepairAssignment {
  @PrimaryGeneratedColumn({ type: 'int' })
  id: number;

  @Column({ type: 'int' })
  ticketId: number;

  @Column({ type: 'int' })
  staffId: number;

  /** auto | reassign | grab */
  @Column({ type: 'varchar', length: 10 })
  kind: string;

  @Column({ type: 'int', nullable: true })
  byStaffId: number | null;

  @Column({ type: 'varchar', length: 200, nullable: true })
  reason: string | null;

  @CreateDateColumn(instant())
  at: Date;
}

/** 回访: the agents' satisfaction call after a ticket is resolved (never 20:00–08:00). */
@Entity('repair_callback')
@Index('uq_repair_callback_round', ['ticketId', 'round'], { unique: true })
@Index('idx_repair_callback_due', ['status', 'scheduledAt'])
export class RepairCallback {
  @PrimaryGeneratedColumn({ type: 'int' })
  id: number;

  @Column({ type: 'int' })
  ticketId: number;

  @Column({ type: 'int' })
  areaId: number;

  /** 0 for the first resolution, +1 per reopen */
  @Column({ type: 'int' })
  round: number;

  @Column(instant())
  scheduledAt: Date;

  @Column(instant())
  dueAt: Date;

  /** pending | done | void (the ticket was reopened: this round's call is no longer owed) */
  @Column({ type: 'varchar', length: 10 })
  status: string;

  /** calls nobody answered (未接通); each schedules the next try */
  @Column({ type: 'int', default: 0 })
  attempts: number;

  @Column({ type: 'varchar', length: 12, nullable: true })
  outcome: 'satisfied' | 'unsatisfied' | 'unreachable' | null;

  @Column({ type: 'varchar', length: 300, nullable: true })
  notes: string | null;

  @Column({ type: 'int', nullable: true })
  agentId: number | null;

  @Column(instant({ nullable: true }))
  doneAt: Date | null;
}

/** A staff member's inbox line (escalations to supervisors and department heads, new dispatches). */
@Entity('repair_staff_notice')
@Index('idx_repair_notice_staff', ['staffId', 'readAt'])
@Index('uq_repair_notice_key', ['staffId', 'dedupeKey'], { unique: true })
export class RepairStaffNotice {
  @PrimaryGeneratedColumn({ type: 'int' })
  id: number;

  @Column({ type: 'int' })
  staffId: number;

  @Column({ type: 'int' })
  ticketId: number;

  /** escalation | dispatch | reopened */
  @Column({ type: 'varchar', length: 16 })
  kind: string;

  @Column({ type: 'varchar', length: 200 })
  text: string;

  @Column({ type: 'varchar', length: 80 })
  dedupeKey: string;

  @CreateDateColumn(instant())
  createdAt: Date;

  @Column(instant({ nullable: true }))
  readAt: Date | null;
}

/** 测温: a measurement visit (booked in the allowed windows), possibly three-party for a refund ruling. */
@Entity('temperature_measurement')
@Index('idx_measurement_account', ['accountId'])
@Index('idx_measurement_area', ['areaId', 'status'])
// one visit a day per household: the China day of a visit that isn't cancelled (NULL once cancelled)
@Index('uq_measurement_account_day', ['accountId', 'activeDay'], { unique: true })
export class TemperatureMeasurement {
  @PrimaryGeneratedColumn({ type: 'int' })
  id: number;

  @Index('uq_measurement_no', { unique: true })
  @Column({ type: 'varchar', length: 24 })
  no: string;

  @Column({ type: 'int' })
  accountId: number;

  @Column({ type: 'int' })
  areaId: number;

  @Column({ type: 'int', nullable: true })
  residentId: number | null;

  @Column({ type: 'int', nullable: true })
  repairId: number | null;

  @Column({ type: 'boolean', default: false })
  threeParty: boolean;

  @Column(instant())
  scheduledAt: Date;

  /** the China date (YYYY-MM-DD) of the visit while it holds the day; NULL when cancelled */
  @Column({ type: 'varchar', length: 10, nullable: true })
  activeDay: string | null;

  @Column({ type: 'varchar', length: 10 })
  status: MeasurementState;

  @Column(instant({ nullable: true }))
  measuredAt: Date | null;

  @Column({ type: 'int', nullable: true })
  measuredBy: number | null;

  /** the lowest room reading, tenths of °C */
  @Column({ type: 'int', nullable: true })
  minReadingDeciC: number | null;

  /** below_legal | below_promise | ok */
  @Column({ type: 'varchar', length: 16, nullable: true })
  compliance: string | null;

  @Column({ type: 'simple-json', nullable: true })
  parties: { company: string; resident: string; community: string } | null;

  @Column(money({ nullable: true }))
  rulingRefundFen: number | null;

  @Column({ type: 'varchar', length: 200, nullable: true })
  rulingNote: string | null;

  @Column({ type: 'int', nullable: true })
  ruledBy: number | null;

  @Column(instant({ nullable: true }))
  ruledAt: Date | null;

  /** the refund finance created from this ruling */
  @Column({ type: 'int', nullable: true })
  refundId: number | null;

  @CreateDateColumn(instant())
  createdAt: Date;
}

@Entity('temperature_reading')
@Index('idx_reading_measurement', ['measurementId'])
export class TemperatureReading {
  @PrimaryGeneratedColumn({ type: 'int' })
  id: number;

  @Column({ type: 'int' })
  measurementId: number;

  @Column({ type: 'varchar', length: 20 })
  room: string;

  @Column({ type: 'int' })
  readingDeciC: number;

  @Column({ type: 'varchar', length: 500, nullable: true })
  photo: string | null;

  @Column({ type: 'simple-json' })
  checks: Record<string, boolean>;
}

export const repairsEntities = [RepairTicket, RepairAssignment, RepairCallback, RepairStaffNotice, TemperatureMeasurement, TemperatureReading];
