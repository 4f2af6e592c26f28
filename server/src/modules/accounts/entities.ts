import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { AccountStatus, AccountUse, BindingRelation } from '@heat-butler/shared';
import { instant } from '../../platform/db/columns';

/** 楼栋: a building, in one area, served by one substation. */
@Entity('building')
@Index('uq_building_area_name', ['areaId', 'name'], { unique: true })
export class Building {
  @PrimaryGeneratedColumn({ type: 'int' })
  id: number;

  @Column({ type: 'int' })
  areaId: number;

  /** e.g. 3号楼 */
  @Column({ type: 'varchar', length: 50 })
  name: string;

  /** street address of the estate, e.g. 长春市朝阳区红旗街88号 锦绣家园 */
  @Column({ type: 'varchar', length: 200 })
  address: string;

  @Column({ type: 'varchar', length: 50, nullable: true })
  substation: string | null;

  @CreateDateColumn(instant())
  createdAt: Date;
}

/** 单元: a stairwell/entrance of a building. */
@Entity('unit')
@Index('uq_unit_building_no', ['buildingId', 'no'], { unique: true })
export class Unit {
  @PrimaryGeneratedColumn({ type: 'int' })
  id: number;

  @Column({ type: 'int' })
  buildingId: number;

  /** unit number as printed, e.g. "1" for 1单元 */
  @Column({ type: 'varchar', length: 10 })
  no: string;
}

/** 户号: the household the company bills (one room). Not the WeChat user. */
@Entity('account')
@Index('idx_account_building', ['buildingId'])
@Index('uq_account_room', ['unitId', 'roomNo'], { unique: true })
export class Account {
  @PrimaryGeneratedColumn({ type: 'int' })
  id: number;

  @Index('uq_account_no', { unique: true })
  @Column({ type: 'varchar', length: 20 })
  accountNo: string;

  @Column({ type: 'int' })
  areaId: number;

  @Column({ type: 'int' })
  buildingId: number;

  @Column({ type: 'int' })
  unitId: number;

  /** e.g. "1202" */
  @Column({ type: 'varchar', length: 10 })
  roomNo: string;

  @Column({ type: 'varchar', length: 32 })
  ownerName: string;

  @Column({ type: 'varchar', length: 20, nullable: true })
  contactPhone: string | null;

  /** heated area in hundredths of m² (8950 = 89.50 m²) */
  @Column({ type: 'int' })
  heatedArea: number;

  @Column({ type: 'varchar', length: 16, default: 'residential' })
  use: AccountUse;

  @Column({ type: 'varchar', length: 16, default: 'active' })
  status: AccountStatus;

  @CreateDateColumn(instant())
  createdAt: Date;

  @UpdateDateColumn(instant())
  updatedAt: Date;
}

/** A resident's binding to an account. Unbinding keeps the row (unboundAt) for the record. */
@Entity('binding')
@Index('uq_binding_resident_account', ['residentId', 'accountId'], { unique: true })
@Index('idx_binding_account', ['accountId'])
export class Binding {
  @PrimaryGeneratedColumn({ type: 'int' })
  id: number;

  @Column({ type: 'int' })
  residentId: number;

  @Column({ type: 'int' })
  accountId: number;

  @Column({ type: 'varchar', length: 16 })
  relation: BindingRelation;

  @Column(instant())
  boundAt: Date;

  @Column(instant({ nullable: true }))
  unboundAt: Date | null;
}

/** Every binding attempt, for the failed-attempt limit (shared by all instances through the DB). */
@Entity('bind_attempt')
@Index('idx_bind_attempt_resident_at', ['residentId', 'at'])
export class BindAttempt {
  @PrimaryGeneratedColumn({ type: 'int' })
  id: number;

  @Column({ type: 'int' })
  residentId: number;

  @Column({ type: 'varchar', length: 20 })
  accountNo: string;

  @Column({ type: 'boolean' })
  success: boolean;

  @Column(instant())
  at: Date;
}

export const accountsEntities = [Building, Unit, Account, Binding, BindAttempt];
