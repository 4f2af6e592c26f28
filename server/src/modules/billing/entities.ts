import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { BillKind, BillLine, BillStatus } from '@heat-butler/shared';
import { instant, money } from '../../platform/db/columns';

/** 采暖季 and its money rules: tariffs, base-fee ratio, discount, late fee. */
@Entity('season')
export class Season {
  @PrimaryGeneratedColumn({ type: 'int' })
  id: number;

  @Index('uq_season_code', { unique: true })
  @Column({ type: 'varchar', length: 9 })
  code: string;

  /** China calendar dates, YYYY-MM-DD */
  @Column({ type: 'varchar', length: 10 })
  startDate: string;

  @Column({ type: 'varchar', length: 10 })
  endDate: string;

  @Column({ type: 'varchar', length: 10 })
  dueDate: string;

  /** fen per m² by use */
  @Column({ type: 'simple-json' })
  tariffs: { residential: number; commercial: number };

  @Column({ type: 'int' })
  baseFeeRatioBp: number;

  @Column({ type: 'int', default: 0 })
  discountBp: number;

  @Column({ type: 'varchar', length: 10, nullable: true })
  discountUntil: string | null;

  @Column({ type: 'int', default: 0 })
  lateFeeDailyBp: number;

  @Column({ type: 'int', default: 0 })
  lateFeeCapBp: number;

  @CreateDateColumn(instant())
  createdAt: Date;

  @UpdateDateColumn(instant())
  updatedAt: Date;
}

/** One bill per account per season. */
@Entity('bill')
@Index('uq_bill_account_season', ['accountId', 'seasonId'], { unique: true })
@Index('idx_bill_season_status', ['seasonId', 'status'])
export class Bill {
  @PrimaryGeneratedColumn({ type: 'int' })
  id: number;

  @Column({ type: 'int' })
  accountId: number;

  @Column({ type: 'int' })
  seasonId: number;

  @Column({ type: 'varchar', length: 8 })
  kind: BillKind;

  @Column({ type: 'varchar', length: 8 })
  status: BillStatus;

  /** the area and unit price the charge was computed from (hundredths of m², fen/m²) */
  @Column({ type: 'int' })
  heatedArea: number;

  @Column({ type: 'int' })
  unitPriceFen: number;

  /** season charge (full fee or base fee), before discount and late fee */
  @Column(money())
  chargeFen: number;

  /** frozen at payment: what was paid, the discount given, the late fee charged */
  @Column(money({ default: 0 }))
  paidFen: number;

  @Column(money({ default: 0 }))
  discountFen: number;

  @Column(money({ default: 0 }))
  lateFeeFen: number;

  /** the computation shown to the resident */
  @Column({ type: 'simple-json' })
  lines: BillLine[];

  /** 'wechat' (with paidOrderId) or 'counter' (paid at the company's counter) */
  @Column({ type: 'varchar', length: 8, nullable: true })
  paidVia: 'wechat' | 'counter' | null;

  @Column({ type: 'int', nullable: true })
  paidOrderId: number | null;

  @Column(instant({ nullable: true }))
  paidAt: Date | null;

  @CreateDateColumn(instant())
  createdAt: Date;

  @UpdateDateColumn(instant())
  updatedAt: Date;
}

export const billingEntities = [Season, Bill];
