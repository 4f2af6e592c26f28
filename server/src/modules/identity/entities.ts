import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { StaffRole } from '@heat-butler/shared';
import { instant } from '../../platform/db/columns';

/** 住户: the WeChat user. Binds heating accounts. */
@Entity('resident')
export class Resident {
  @PrimaryGeneratedColumn({ type: 'int' })
  id: number;

  @Index('uq_resident_openid', { unique: true })
  @Column({ type: 'varchar', length: 64 })
  openid: string;

  @Column({ type: 'varchar', length: 64, nullable: true })
  unionid: string | null;

  @Column({ type: 'varchar', length: 32, nullable: true })
  nickname: string | null;

  @CreateDateColumn(instant())
  createdAt: Date;

  @Column(instant({ nullable: true }))
  lastLoginAt: Date | null;
}

/** Company staff: agents, butlers, dispatchers, workers, substation crews, finance, admins. */
@Entity('staff')
export class Staff {
  @PrimaryGeneratedColumn({ type: 'int' })
  id: number;

  @Index('uq_staff_username', { unique: true })
  @Column({ type: 'varchar', length: 64 })
  username: string;

  @Column({ type: 'varchar', length: 32 })
  name: string;

  @Column({ type: 'varchar', length: 100 })
  passwordHash: string;

  @Column({ type: 'simple-json' })
  roles: StaffRole[];

  /** the staff member's WeChat openid, bound with an invite code (staff pages in the mini-program) */
  @Index('uq_staff_openid', { unique: true })
  @Column({ type: 'varchar', length: 64, nullable: true })
  openid: string | null;

  @Column({ type: 'boolean', default: false })
  disabled: boolean;

  @CreateDateColumn(instant())
  createdAt: Date;
}

/** Which areas a staff member serves. */
@Entity('staff_area')
@Index('uq_staff_area', ['staffId', 'areaId'], { unique: true })
export class StaffArea {
  @PrimaryGeneratedColumn({ type: 'int' })
  id: number;

  @Column({ type: 'int' })
  staffId: number;

  @Column({ type: 'int' })
  areaId: number;
}

/** One-time code an admin hands a staff member to bind their WeChat. */
@Entity('staff_invite')
export class StaffInvite {
  @PrimaryGeneratedColumn({ type: 'int' })
  id: number;

  @Index('uq_staff_invite_code', { unique: true })
  @Column({ type: 'varchar', length: 16 })
  code: string;

  @Column({ type: 'int' })
  staffId: number;

  @Column({ type: 'int' })
  createdBy: number;

  @Column(instant())
  expiresAt: Date;

  @Column(instant({ nullable: true }))
  usedAt: Date | null;

  @CreateDateColumn(instant())
  createdAt: Date;
}

/** An opaque session token (only its SHA-256 is stored); revocable. */
@Entity('session')
@Index('idx_session_subject', ['kind', 'subjectId'])
export class Session {
  @PrimaryGeneratedColumn({ type: 'int' })
  id: number;

  @Index('uq_session_token', { unique: true })
  @Column({ type: 'varchar', length: 64 })
  tokenHash: string;

  /** resident | staff */
  @Column({ type: 'varchar', length: 16 })
  kind: 'resident' | 'staff';

  @Column({ type: 'int' })
  subjectId: number;

  @Column(instant())
  expiresAt: Date;

  @Column(instant({ nullable: true }))
  revokedAt: Date | null;

  @CreateDateColumn(instant())
  createdAt: Date;
}

export const identityEntities = [Resident, Staff, StaffArea, StaffInvite, Session];
