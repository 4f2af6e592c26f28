import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { ImportState, ImportSummary } from '@heat-butler/shared';
import { instant } from '../../platform/db/columns';

/** One household import: its progress (polled by the admin page) and its outcome. */
@Entity('import_job')
@Index('idx_import_job_state', ['state', 'createdAt'])
export class ImportJob {
  @PrimaryGeneratedColumn({ type: 'int' })
  id: number;

  @Column({ type: 'varchar', length: 200 })
  fileName: string;

  @Column({ type: 'varchar', length: 8 })
  format: 'xlsx' | 'csv';

  /** validate only, write nothing */
  @Column({ type: 'boolean', default: false })
  dryRun: boolean;

  @Column({ type: 'varchar', length: 16 })
  state: ImportState;

  @Column({ type: 'int', default: 0 })
  processed: number;

  @Column({ type: 'int', nullable: true })
  total: number | null;

  @Column({ type: 'int', default: 0 })
  issueCount: number;

  @Column({ type: 'simple-json', nullable: true })
  summary: ImportSummary | null;

  /** an unexpected failure (the write was rolled back) */
  @Column({ type: 'varchar', length: 500, nullable: true })
  error: string | null;

  @Column({ type: 'int', nullable: true })
  createdBy: number | null;

  @CreateDateColumn(instant())
  createdAt: Date;

  @Column(instant({ nullable: true }))
  finishedAt: Date | null;

  /** heartbeat of the process running the job (every few seconds while running; the app's clock) */
  @Column(instant({ nullable: true }))
  updatedAt: Date | null;
}

/** One problem of one row of an import (every problem of every row is kept, up to a cap). */
@Entity('import_issue')
@Index('idx_import_issue_job', ['jobId', 'row'])
export class ImportIssue {
  @PrimaryGeneratedColumn({ type: 'int' })
  id: number;

  @Column({ type: 'int' })
  jobId: number;

  /** row number as the admin sees it in Excel (header row = 1) */
  @Column({ type: 'int' })
  row: number;

  @Column({ type: 'varchar', length: 40 })
  column: string;

  @Column({ type: 'varchar', length: 100 })
  value: string;

  @Column({ type: 'varchar', length: 200 })
  message: string;
}

/** 操作日志: every admin action, written in the same transaction as the change. */
@Entity('audit_log')
@Index('idx_audit_action_at', ['action', 'at'])
@Index('idx_audit_at', ['at'])
export class AuditLog {
  @PrimaryGeneratedColumn({ type: 'int' })
  id: number;

  @Column(instant())
  at: Date;

  @Column({ type: 'int', nullable: true })
  actorId: number | null;

  @Column({ type: 'varchar', length: 32 })
  actorName: string;

  /** e.g. 'settings.update', 'staff.create' */
  @Column({ type: 'varchar', length: 64 })
  action: string;

  @Column({ type: 'varchar', length: 32 })
  targetType: string;

  @Column({ type: 'varchar', length: 64, nullable: true })
  targetId: string | null;

  @Column({ type: 'simple-json', nullable: true })
  before: unknown;

  @Column({ type: 'simple-json', nullable: true })
  after: unknown;
}

export const adminEntities = [ImportJob, ImportIssue, AuditLog];
