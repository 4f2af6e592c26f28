import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { AnnouncementType, CannedCategory, MessageKind } from '@heat-butler/shared';
import { instant } from '../../platform/db/columns';

/** 管家群: one per building. Staff of the building's area are members by their staff_area rows. */
@Entity('butler_group')
@Index('idx_butler_group_area', ['areaId'])
export class ButlerGroup {
  @PrimaryGeneratedColumn({ type: 'int' })
  id: number;

  @Index('uq_butler_group_building', { unique: true })
  @Column({ type: 'int' })
  buildingId: number;

  @Column({ type: 'int' })
  areaId: number;

  /** e.g. 锦绣家园 1号楼 供热管家群 */
  @Column({ type: 'varchar', length: 100 })
  name: string;

  @CreateDateColumn(instant())
  createdAt: Date;
}

/**
 * A resident's membership through one bound account (a resident with two flats in the building
 * has two rows; they stay a member while one is active). The row is kept after leaving.
 */
@Entity('group_member')
@Index('uq_group_member', ['groupId', 'residentId', 'accountId'], { unique: true })
@Index('idx_group_member_resident', ['residentId'])
export class GroupMember {
  @PrimaryGeneratedColumn({ type: 'int' })
  id: number;

  @Column({ type: 'int' })
  groupId: number;

  @Column({ type: 'int' })
  residentId: number;

  @Column({ type: 'int' })
  accountId: number;

  @Column(instant())
  joinedAt: Date;

  @Column(instant({ nullable: true }))
  leftAt: Date | null;
}

/** Per reader (resident or staff) and group: read position; for residents also the mute. */
@Entity('group_reader')
@Index('uq_group_reader', ['groupId', 'readerKind', 'readerId'], { unique: true })
export class GroupReader {
  @PrimaryGeneratedColumn({ type: 'int' })
  id: number;

  @Column({ type: 'int' })
  groupId: number;

  /** resident | staff */
  @Column({ type: 'varchar', length: 16 })
  readerKind: 'resident' | 'staff';

  @Column({ type: 'int' })
  readerId: number;

  @Column({ type: 'int', default: 0 })
  lastReadId: number;

  @Column(instant({ nullable: true }))
  mutedUntil: Date | null;

  @Column({ type: 'int', nullable: true })
  mutedBy: number | null;

  @Column({ type: 'varchar', length: 200, nullable: true })
  muteReason: string | null;
}

/** A message in a group. Resident questions carry their answer and claim state for the inbox. */
@Entity('group_message')
@Index('idx_group_message_group', ['groupId', 'id'])
@Index('idx_group_message_inbox', ['areaId', 'senderKind', 'answeredAt'])
@Index('idx_group_message_sender', ['groupId', 'senderKind', 'senderId'])
@Index('idx_group_message_conversation', ['conversationId', 'answeredAt'])
export class GroupMessage {
  @PrimaryGeneratedColumn({ type: 'int' })
  id: number;

  @Column({ type: 'int' })
  groupId: number;

  @Column({ type: 'int' })
  areaId: number;

  @Column({ type: 'varchar', length: 16 })
  kind: MessageKind;

  /** resident | staff */
  @Column({ type: 'varchar', length: 16 })
  senderKind: 'resident' | 'staff';

  @Column({ type: 'int' })
  senderId: number;

  /** snapshot shown to everyone: "3单元 王**" or "李客服" */
  @Column({ type: 'varchar', length: 50 })
  senderLabel: string;

  /** staff role label, e.g. 客服 */
  @Column({ type: 'varchar', length: 20, nullable: true })
  senderRole: string | null;

  @Column({ type: 'text', nullable: true })
  text: string | null;

  /** the photo: an upload key (up_…, served at /api/v1/uploads/<key>) or an http(s) URL */
  @Column({ type: 'varchar', length: 500, nullable: true })
  imageUrl: string | null;

  @Column({ type: 'varchar', length: 32, nullable: true })
  link: string | null;

  @Column({ type: 'int', nullable: true })
  quoteId: number | null;

  @Column({ type: 'int', nullable: true })
  announcementId: number | null;

  @Column({ type: 'boolean', default: false })
  pinned: boolean;

  // ---- inbox state of a resident's message (who handles it lives on its Conversation) ----
  /** the conversation (resident × group) a resident's message belongs to */
  @Column({ type: 'int', nullable: true })
  conversationId: number | null;

  @Column(instant({ nullable: true }))
  answeredAt: Date | null;

  /** the staff member whose reply answered it first (first-response metric) */
  @Column({ type: 'int', nullable: true })
  answeredBy: number | null;

  /** first-response time of this question, stored when the answer happens (answeredAt - createdAt) */
  @Column({ type: 'int', nullable: true })
  responseSeconds: number | null;

  /** the repair ticket this resident message was turned into (set in the booking's transaction) */
  @Column({ type: 'int', nullable: true })
  repairTicketId: number | null;

  // ---- moderation: hidden messages stay for audit ----
  /**
   * content security: pending = its photo awaits WeChat's verdict (审核中: only the sender and staff
   * see it); flagged = WeChat said review or could not check (published, marked for staff)
   */
  @Column({ type: 'varchar', length: 16, nullable: true })
  moderation: 'pending' | 'flagged' | null;

  @Column(instant({ nullable: true }))
  hiddenAt: Date | null;

  @Column({ type: 'int', nullable: true })
  hiddenBy: number | null;

  @Column({ type: 'varchar', length: 200, nullable: true })
  hideReason: string | null;

  @Column(instant())
  createdAt: Date;
}

/**
 * 会话: one resident in one group as the agents' inbox sees it. The claim lives here (one row,
 * decided by one conditional UPDATE), not on each message. A resident's new question after an
 * answer reopens the conversation unclaimed.
 */
@Entity('inbox_conversation')
@Index('uq_inbox_conversation', ['groupId', 'residentId'], { unique: true })
@Index('idx_inbox_conversation_assignee', ['assigneeId', 'status'])
export class Conversation {
  @PrimaryGeneratedColumn({ type: 'int' })
  id: number;

  @Column({ type: 'int' })
  groupId: number;

  @Column({ type: 'int' })
  residentId: number;

  @Column({ type: 'int' })
  areaId: number;

  /** open = a question waits for an answer; answered = every question is answered (or hidden) */
  @Column({ type: 'varchar', length: 16 })
  status: 'open' | 'answered';

  /** the agent who claimed it (or answered last); claims older than CLAIM_TTL_MS may be taken over */
  @Column({ type: 'int', nullable: true })
  assigneeId: number | null;

  @Column(instant({ nullable: true }))
  assignedAt: Date | null;

  /** the first staff answer in this conversation, stored once when it happens */
  @Column(instant({ nullable: true }))
  firstResponseAt: Date | null;

  @Column({ type: 'int', nullable: true })
  firstResponseBy: number | null;

  @Column(instant())
  lastMessageAt: Date;

  @Column(instant())
  createdAt: Date;
}

@Entity('message_report')
@Index('uq_message_report', ['messageId', 'residentId'], { unique: true })
export class MessageReport {
  @PrimaryGeneratedColumn({ type: 'int' })
  id: number;

  @Column({ type: 'int' })
  messageId: number;

  @Column({ type: 'int' })
  residentId: number;

  @Column({ type: 'varchar', length: 200 })
  reason: string;

  @Column(instant())
  at: Date;
}

/** 标准话术: the company's library of standard replies. */
@Entity('canned_reply')
export class CannedReply {
  @PrimaryGeneratedColumn({ type: 'int' })
  id: number;

  @Column({ type: 'varchar', length: 16 })
  category: CannedCategory;

  @Column({ type: 'varchar', length: 50 })
  title: string;

  @Column({ type: 'text' })
  body: string;

  @Column({ type: 'int', default: 0 })
  useCount: number;

  @CreateDateColumn(instant())
  createdAt: Date;
}

/** 公告 to one building, an area or all; posted into each group as a pinned message. */
@Entity('announcement')
@Index('idx_announcement_created', ['createdAt'])
export class Announcement {
  @PrimaryGeneratedColumn({ type: 'int' })
  id: number;

  /** building | area | all */
  @Column({ type: 'varchar', length: 16 })
  scope: string;

  @Column({ type: 'int', nullable: true })
  targetId: number | null;

  @Column({ type: 'varchar', length: 16 })
  type: AnnouncementType;

  @Column({ type: 'varchar', length: 50 })
  title: string;

  @Column({ type: 'text' })
  body: string;

  @Column(instant({ nullable: true }))
  expectedRestoreAt: Date | null;

  /** residents a subscription message was queued for (delivery status lives in the outbox, key ann:<id>:r:<resident>) */
  @Column({ type: 'int', default: 0 })
  recipients: number;

  @Column({ type: 'int' })
  createdBy: number;

  @Column(instant())
  createdAt: Date;
}

/** Private staff notes on a resident (never shown to residents). */
@Entity('staff_note')
@Index('idx_staff_note_resident', ['residentId'])
export class StaffNote {
  @PrimaryGeneratedColumn({ type: 'int' })
  id: number;

  @Column({ type: 'int' })
  residentId: number;

  @Column({ type: 'int' })
  staffId: number;

  @Column({ type: 'varchar', length: 32 })
  staffName: string;

  @Column({ type: 'text' })
  body: string;

  @Column(instant())
  createdAt: Date;
}

export const groupsEntities = [ButlerGroup, GroupMember, GroupReader, GroupMessage, Conversation, MessageReport, CannedReply, Announcement, StaffNote];
