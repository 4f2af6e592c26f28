import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { instant } from '../../platform/db/columns';

/**
 * The moderation trail: every content-security check of what a resident posted (text through
 * msgSecCheck, photos through mediaCheckAsync): who, what, which verdict, when.
 */
@Entity('moderation_record')
@Index('idx_moderation_area', ['areaId', 'id'])
@Index('idx_moderation_subject', ['subjectType', 'subjectId'])
export class ModerationRecord {
  @PrimaryGeneratedColumn({ type: 'int' })
  id: number;

  /** text | image */
  @Column({ type: 'varchar', length: 8 })
  kind: 'text' | 'image';

  /** what it belongs to: group_message, repair, repair_rating, service_change, message_report */
  @Column({ type: 'varchar', length: 32 })
  subjectType: string;

  /** the subject's id (null while it is being created, or when the text was refused) */
  @Column({ type: 'int', nullable: true })
  subjectId: number | null;

  @Column({ type: 'int' })
  residentId: number;

  /** the area the content is visible in (staff scope); null = none */
  @Column({ type: 'int', nullable: true })
  areaId: number | null;

  /** the text (first 500 characters) or the upload key of the photo */
  @Column({ type: 'varchar', length: 500 })
  content: string;

  /** WeChat scene: 1 资料, 2 评论, 3 论坛, 4 社交日志 */
  @Column({ type: 'int' })
  scene: number;

  /** pending (photo awaiting WeChat's push) | pass | review | risky | error (WeChat could not check) */
  @Column({ type: 'varchar', length: 16 })
  verdict: string;

  /** WeChat's label: 100 normal, 10001 ad, 20001 politics, 20002 porn, 20003 abuse, 20006 crime, 20008 fraud, 20012 vulgar, 20013 copyright, 21000 other */
  @Column({ type: 'int', nullable: true })
  label: number | null;

  @Index('idx_moderation_trace')
  @Column({ type: 'varchar', length: 64, nullable: true })
  traceId: string | null;

  /** why WeChat could not check (errcode, message) */
  @Column({ type: 'varchar', length: 200, nullable: true })
  detail: string | null;

  @CreateDateColumn(instant())
  createdAt: Date;

  @Column(instant({ nullable: true }))
  decidedAt: Date | null;
}

export const moderationEntities = [ModerationRecord];
