import { In, IsNull } from 'typeorm';
import type { InboxItem, MessageToRepairBody, Page } from '@heat-butler/shared';
import type { z } from 'zod';
import { AppError } from '../../platform/errors';
import { forUpdate, withTx } from '../../platform/db/data-source';
import { assertStaffArea, staffAreaFilter, type StaffPrincipal } from '../../platform/auth';
import { ButlerGroup, Conversation, GroupMember, GroupMessage } from './entities';
import { GroupsCore, seconds, type GroupsDeps, type Viewer } from './core';
import { releaseConversation, takeConversation } from './conversations';
import type { GroupMessages } from './messages';

type ToRepairInput = z.output<typeof MessageToRepairBody>;

/** The agents' inbox: residents' questions by waiting/mine/all, claims, and message → repair ticket. */
export class GroupInbox extends GroupsCore {
  constructor(
    d: GroupsDeps,
    private replies: GroupMessages,
  ) {
    super(d);
  }

  async inbox(p: StaffPrincipal, q: { view: 'pending' | 'mine' | 'all'; groupId?: number; page: number; pageSize: number }): Promise<Page<InboxItem>> {
    const scope = staffAreaFilter(p);
    const qb = this.ds.getRepository(GroupMessage).createQueryBuilder('m').where('m.senderKind = :rk', { rk: 'resident' }).andWhere('m.hiddenAt IS NULL');
    if (scope !== 'all') {
      if (!scope.length) return { items: [], total: 0, page: q.page, pageSize: q.pageSize };
      qb.andWhere('m.areaId IN (:...areas)', { areas: scope });
    }
    if (q.groupId) qb.andWhere('m.groupId = :g', { g: q.groupId });
    if (q.view === 'pending') qb.andWhere('m.answeredAt IS NULL').orderBy('m.id', 'ASC');
    else if (q.view === 'mine') {
      // questions I answered, and the waiting questions of conversations I hold
      qb.leftJoin(Conversation, 'c', 'c.id = m.conversationId')
        .andWhere('(m.answeredBy = :me OR (m.answeredAt IS NULL AND c.assigneeId = :me))', { me: p.staffId })
        .orderBy('m.id', 'DESC');
    } else qb.orderBy('m.id', 'DESC');
    const [rows, total] = await qb
      .skip((q.page - 1) * q.pageSize)
      .take(q.pageSize)
      .getManyAndCount();
    const viewer: Viewer = { kind: 'staff', staffId: p.staffId };
    const views = await this.present(rows, viewer);
    const groups = new Map((await this.ds.getRepository(ButlerGroup).find({ where: { id: In([0, ...rows.map((r) => r.groupId)]) } })).map((g) => [g.id, g]));
    const now = this.d.clock();
    return {
      items: rows.map((m, i) => ({
        message: views[i],
        groupName: groups.get(m.groupId)?.name ?? '',
        areaId: m.areaId,
        waitingSeconds: m.answeredAt ? null : seconds(m.createdAt, now),
        claimedBy: views[i].claimedBy ?? null,
      })),
      total,
      page: q.page,
      pageSize: q.pageSize,
    };
  }

  /** A resident's visible question in the staff member's areas. */
  private async question(p: StaffPrincipal, messageId: number): Promise<GroupMessage> {
    const msg = await this.ds.getRepository(GroupMessage).findOne({ where: { id: messageId, senderKind: 'resident' } });
    if (!msg || msg.hiddenAt) throw new AppError('MESSAGE_NOT_FOUND');
    assertStaffArea(p, msg.areaId);
    return msg;
  }

  /**
   * First-responder ownership: claim the resident's conversation (all their questions in the
   * group). One conditional UPDATE decides a race; a stale claim (CLAIM_TTL_MS) may be taken over.
   */
  async claim(p: StaffPrincipal, messageId: number): Promise<InboxItem> {
    const msg = await this.question(p, messageId);
    if (msg.answeredAt || !msg.conversationId) throw new AppError('INVALID_TRANSITION');
    await takeConversation(this.ds.manager, msg.conversationId, p.staffId, this.d.clock(), (id) => this.staffName(id));
    this.publishArea(msg.areaId, { type: 'inbox', groupId: msg.groupId, messageId, change: 'claimed', staffId: p.staffId });
    return this.inboxItem(p, messageId);
  }

  async release(p: StaffPrincipal, messageId: number): Promise<void> {
    const msg = await this.ds.getRepository(GroupMessage).findOne({ where: { id: messageId, senderKind: 'resident' } });
    if (!msg) throw new AppError('MESSAGE_NOT_FOUND');
    assertStaffArea(p, msg.areaId);
    if (msg.conversationId) await releaseConversation(this.ds.manager, msg.conversationId, p.staffId);
    this.publishArea(msg.areaId, { type: 'inbox', groupId: msg.groupId, messageId, change: 'released', staffId: p.staffId });
  }

  private async inboxItem(p: StaffPrincipal, messageId: number): Promise<InboxItem> {
    const m = await this.ds.getRepository(GroupMessage).findOneByOrFail({ id: messageId });
    const [view] = await this.present([m], { kind: 'staff', staffId: p.staffId });
    const g = await this.ds.getRepository(ButlerGroup).findOneByOrFail({ id: m.groupId });
    return {
      message: view,
      groupName: g.name,
      areaId: m.areaId,
      waitingSeconds: m.answeredAt ? null : seconds(m.createdAt, this.d.clock()),
      claimedBy: view.claimedBy ?? null,
    };
  }

  /**
   * Turn a resident's message into a repair ticket (booked by the repairs module for the
   * resident's account in this building, with the message's text and photo) and reply in the
   * group quoting it with the ticket number and a link to 我的报修 — all in ONE transaction: the
   * message is locked, the conversation claimed, the ticket booked in the same EntityManager and
   * linked, the reply written. Any failure leaves no ticket and the message unlinked, reusable.
   */
  async toRepair(p: StaffPrincipal, messageId: number, input: ToRepairInput) {
    const first = await this.question(p, messageId);
    const group = await this.staffGroup(p, first.groupId);
    const memberships = await this.ds
      .getRepository(GroupMember)
      .find({ where: { groupId: group.id, residentId: first.senderId, leftAt: IsNull() }, order: { id: 'ASC' } });
    const accountId = input.accountId ?? memberships[0]?.accountId;
    if (!accountId || !memberships.some((m) => m.accountId === accountId)) throw new AppError('NOT_FOUND');
    const now = this.d.clock();
    const { ticket, reply, answered } = await withTx(this.ds, async (em) => {
      // the row lock makes a second agent wait here and then see the link (one ticket per message)
      const msg = await forUpdate(em.createQueryBuilder(GroupMessage, 'm').where('m.id = :id', { id: first.id })).getOneOrFail();
      if (msg.hiddenAt) throw new AppError('MESSAGE_NOT_FOUND');
      if (msg.repairTicketId) throw new AppError('MESSAGE_ALREADY_REPAIR');
      if (!msg.answeredAt && msg.conversationId) await takeConversation(em, msg.conversationId, p.staffId, now, (id) => this.staffName(id));
      const text = (input.description || msg.text || '').trim();
      const ticket = await this.d.repairs.bookForResident(em, p, msg.senderId, accountId, {
        category: input.category,
        emergency: input.emergency,
        description: text.length >= 4 ? text : `管家群报修：${text || '见照片'}`,
        photos: msg.imageUrl ? [msg.imageUrl] : [],
      });
      await em.update(GroupMessage, msg.id, { repairTicketId: ticket.id });
      const replyText = `已为您登记报修，工单号 ${ticket.no}（${ticket.categoryLabel}${ticket.emergency ? '，紧急' : ''}）。维修人员会尽快与您联系，进度可在“我的报修”中查看。`;
      const { msg: reply, answered } = await this.replies.insertStaffReply(em, p, group, { text: replyText, quoteId: msg.id, link: 'my_repairs' }, now);
      return { ticket, reply, answered };
    });
    await this.replies.afterStaffReply(p, group, reply, answered);
    return {
      ticket: { id: ticket.id, no: ticket.no, status: ticket.status, categoryLabel: ticket.categoryLabel, emergency: ticket.emergency },
      reply: (await this.present([reply], { kind: 'staff', staffId: p.staffId }))[0],
    };
  }
}
