import { Column, Entity, PrimaryGeneratedColumn, UpdateDateColumn, CreateDateColumn, Index } from 'typeorm';
import type { CompanyRules } from '@heat-butler/shared';
import { instant } from '../../platform/db/columns';

/** The company running this deployment: one row. */
@Entity('company')
export class Company {
  @PrimaryGeneratedColumn({ type: 'int' })
  id: number;

  @Column({ type: 'varchar', length: 100 })
  name: string;

  @Column({ type: 'varchar', length: 32 })
  hotline: string;

  /** validated by the shared CompanyRules schema; defaults fill what is missing */
  @Column({ type: 'simple-json' })
  rules: Partial<CompanyRules>;

  @UpdateDateColumn(instant())
  updatedAt: Date;
}

/** 片区: a service district; staff serve areas. */
@Entity('area')
export class Area {
  @PrimaryGeneratedColumn({ type: 'int' })
  id: number;

  @Index('uq_area_code', { unique: true })
  @Column({ type: 'varchar', length: 16 })
  code: string;

  @Column({ type: 'varchar', length: 50 })
  name: string;

  @CreateDateColumn(instant())
  createdAt: Date;
}

export const companyEntities = [Company, Area];
