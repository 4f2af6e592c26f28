import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { UploadPurpose } from '@heat-butler/shared';
import { instant } from '../db/columns';

/**
 * An uploaded photo: bytes on disk under UPLOAD_DIR/<key>, this row says whose it is and what it
 * is for. Served only through short-lived signed links handed out by the views that show it.
 */
@Entity('upload')
@Index('idx_upload_retention', ['purpose', 'createdAt'])
export class Upload {
  @PrimaryGeneratedColumn({ type: 'int' })
  id: number;

  @Index('uq_upload_key', { unique: true })
  @Column({ type: 'varchar', length: 40 })
  key: string;

  @Column({ type: 'varchar', length: 20 })
  mime: string;

  @Column({ type: 'int' })
  bytes: number;

  @Column({ type: 'varchar', length: 64 })
  sha256: string;

  @Column({ type: 'varchar', length: 10 })
  ownerKind: 'resident' | 'staff';

  @Column({ type: 'int' })
  ownerId: number;

  /** repair_photo, chat_photo, id_document, valve_photo, measurement_photo */
  @Column({ type: 'varchar', length: 24, default: 'repair_photo' })
  purpose: UploadPurpose;

  /** when a repair, message, application… first referenced it; never referenced → removed after a day */
  @Column(instant({ nullable: true }))
  attachedAt: Date | null;

  @CreateDateColumn(instant())
  createdAt: Date;
}

export const uploadsEntities = [Upload];
