import { IsNull, type EntityManager } from 'typeorm';
import type { GroupMessageView, PostMessage } from '@heat-butler/shared';
import type { z } from 'zod';
import { AppError } from '../../platform/errors';
import { forUpdate, isUniqueViolation, withTx } from '../../platform/db/data-source';
import type { AuthPrincipal, ResidentPrincipal, StaffPrincipal } from '../../platform/auth';
import type { PhotoVerdict } from '../moderation';
import { ButlerGroup, GroupMessage, MessageReport } from './entities';
import { GroupsCore, roleLabel, UNHANDLED, type Viewer } from './core';
import { ensureConversation, recordAnswer, takeConversation, touchConversation } from './conversations';

export type PostInput = z.output<typeof PostMessage>;

/** Reading and writing in a group: residents' posts (with content security), staff replies, reports. */
export class GroupMessages extends GroupsCore {
  async messages(p: AuthPrincipal, groupId: number, q: { before?: number; after?: number; limit: number }) {
    const group = p.kind === 'resident' ? await this.residentGroup(p.residentId, groupId) : await this.staffGroup(p, groupId);
    const viewer: Viewer = p.kind === 'resident' ? { kind: 'resident', residentId: p.residentId } : { kind: 'staff', staffId: p.staffId };
    const qb = this.visible(group.id, viewer);
    let rows: GroupMessage[];
    if (q.after !== undefined) {
      rows = await qb
        .andWhere('m.id > :a', { a: q.after })
        .orderBy('m.id', 'ASC')
        .limit(q.limit + 1)
        .getMany();
    } else {
      if (q.before) qb.andWhere('m.id < :b', { b: q.before });
      rows = await qb
        .orderBy('m.id', 'DESC')
        .limit(q.limit + 1)
        .getMany();
    }
    const hasMore = rows.length > q.limit;
    rows = rows.slice(0, q.limit);
    const reader = await this.reader(group.id, viewer.kind, viewer.kind === 'resident' ? viewer.residentId : viewer.staffId);
    return {
      items: await this.present(rows, viewer),
      hasMore,
      unread: await this.unreadCount(group.id, viewer, reader?.lastReadId ?? 0),
    };
  }

  async markRead(p: AuthPrincipal, groupId: number, upTo: number): Promise<{ unread: number }> {
    const group = p.kind === 'resident' ? await this.residentGroup(p.residentId, groupId) : await this.staffGroup(p, groupId);
    const kind = p.kind;
    const id = p.kind === 'resident' ? p.residentId : p.staffId;
    await this.upsertReader(group.id, kind, id, (r) => ({ lastReadId: Math.max(r?.lastReadId ?? 0, upTo) }));
    const reader = await this.reader(group.id, kind, id);
    const viewer: Viewer = p.kind === 'resident' ? { kind: 'resident', residentId: p.residentId } : { kind: 'staff', staffId: p.staffId };
    return { unread: await this.unreadCount(group.id, viewer, reader?.lastReadId ?? 0) };
  }

  async postResident(p: ResidentPrincipal, groupId: number, body: PostInput): Promise<GroupMessageView> {
    const group = await this.residentGroup(p.residentId, groupId);
    const now = this.d.clock();
    const reader = await this.reader(group.id, 'resident', p.residentId);
    if (reader?.mutedUntil && reader.mutedUntil > now) throw new AppError('MEMBER_MUTED', { mutedUntil: reader.mutedUntil.toISOString() });
    if (body.link) throw new AppError('FORBIDDEN');
    if (body.photo) await this.d.uploads.claim([body.photo], { kind: 'resident', id: p.residentId }, ['chat_photo'], 'photo');
    await this.d.limiter.take([{ limit: 'post.resident', subject: p.residentId }]);
    let quoteId: number | null = null;
    if (body.quoteId) {
      const quoted = await this.ds.getRepository(GroupMessage).findOne({ where: { id: body.quoteId, groupId: group.id, hiddenAt: IsNull() } });
      if (!quoted) throw new AppError('MESSAGE_NOT_FOUND');
      quoteId = quoted.id;
    }
    // content security: text before publishing (risky is refused), the photo after (审核中 until WeChat's verdict);
    // the sender's label meanwhile
    const [text, who] = await Promise.all([
      body.text ? this.d.moderation.checkText(p, body.text, { subjectType: 'group_message', scene: 3, areaId: group.areaId }) : null,
      this.residentLabel(group.id, p.residentId),
    ]);
    // the message and its conversation (opened again if it was answered) together
    await ensureConversation(this.ds, { groupId: group.id, areaId: group.areaId }, p.residentId, now);
    const msg = await withTx(this.ds, async (em) => {
      const conversationId = await touchConversation(em, { groupId: group.id, areaId: group.areaId }, p.residentId, now);
      return em.save(
        em.create(GroupMessage, {
          groupId: group.id,
          areaId: group.areaId,
          kind: body.photo && !body.text ? 'image' : 'text',
          senderKind: 'resident',
          senderId: p.residentId,
          senderLabel: who.label,
          senderRole: null,
          text: body.text ?? null,
          imageUrl: body.photo ?? null,
          link: null,
          quoteId,
          announcementId: null,
          pinned: false,
          ...UNHANDLED,
          moderation: body.photo ? 'pending' : text && text.verdict !== 'pass' ? 'flagged' : null,
          conversationId,
          createdAt: now,
        }),
      );
    });
    if (text) await this.d.moderation.link([text.recordId], msg.id);
    await this.upsertReader(group.id, 'resident', p.residentId, (r) => ({ lastReadId: Math.max(r?.lastReadId ?? 0, msg.id) }));
    if (body.photo) {
      await this.d.moderation.checkPhoto(p.residentId, body.photo, { subjectType: 'group_message', subjectId: msg.id, scene: 3, areaId: group.areaId });
      // the verdict may already be in (or WeChat could not check): publish by what the row says now
      const now2 = await this.ds
        .getRepository(GroupMessage)
        .findOneOrFail({ where: { id: msg.id }, select: { id: true, moderation: true, hiddenAt: true, hideReason: true } });
      msg.moderation = now2.moderation;
      msg.hiddenAt = now2.hiddenAt;
      msg.hideReason = now2.hideReason;
    }
    // under review: staff see it at once, the group once WeChat passed it (onPhotoVerdict)
    await this.fanOut(group, msg, 'new', msg.moderation === 'pending' || msg.hiddenAt ? 'staff' : 'all');
    return (await this.present([msg], { kind: 'resident', residentId: p.residentId }))[0];
  }

  /** WeChat's verdict on a resident's photo: publish it (pass; review/error flagged) or remove it (risky). */
  async onPhotoVerdict(messageId: number, verdict: PhotoVerdict): Promise<void> {
    const repo = this.ds.getRepository(GroupMessage);
    const msg = await repo.findOne({ where: { id: messageId } });
    if (!msg || msg.moderation !== 'pending') return;
    const group = await this.ds.getRepository(ButlerGroup).findOneByOrFail({ id: msg.groupId });
    if (verdict === 'risky') {
      const res = await repo.update(
        { id: msg.id, moderation: 'pending' },
        { moderation: 'flagged', hiddenAt: this.d.clock(), hiddenBy: null, hideReason: '图片未通过微信内容安全审核' },
      );
      if (!res.affected) return;
      this.d.realtime.publish(`group:${msg.groupId}`, { type: 'hidden', groupId: msg.groupId, messageId: msg.id });
      this.publishArea(msg.areaId, { type: 'inbox', groupId: msg.groupId, messageId: msg.id, change: 'hidden', staffId: null });
      return;
    }
    const moderation = verdict === 'pass' && !(await this.textFlagged(msg.id)) ? null : 'flagged';
    const res = await repo.update({ id: msg.id, moderation: 'pending' }, { moderation });
    if (!res.affected) return;
    msg.moderation = moderation;
    await this.fanOut(group, msg, null);
  }

  /** Did the message's text come back as review (or unchecked)? */
  private async textFlagged(messageId: number): Promise<boolean> {
    return (await this.d.moderation.verdictsOf('group_message', messageId)).some((v) => v.kind === 'text' && v.verdict !== 'pass');
  }

  async report(p: ResidentPrincipal, groupId: number, messageId: number, reason: string): Promise<void> {
    const group = await this.residentGroup(p.residentId, groupId);
    const msg = await this.ds.getRepository(GroupMessage).findOne({ where: { id: messageId, groupId: group.id, hiddenAt: IsNull() } });
    if (!msg) throw new AppError('MESSAGE_NOT_FOUND');
    try {
      await this.ds.getRepository(MessageReport).insert({ messageId, residentId: p.residentId, reason, at: this.d.clock() });
    } catch (err) {
      if (isUniqueViolation(err)) throw new AppError('ALREADY_REPORTED');
      throw err;
    }
    this.publishArea(group.areaId, { type: 'inbox', groupId: group.id, messageId, change: 'reported' });
  }

  async postStaff(p: StaffPrincipal, groupId: number, body: PostInput): Promise<GroupMessageView> {
    const group = await this.staffGroup(p, groupId);
    if (body.photo) await this.d.uploads.claim([body.photo], { kind: 'staff', id: p.staffId }, ['chat_photo'], 'photo');
    const now = this.d.clock();
    const { msg, answered } = await withTx(this.ds, (em) => this.insertStaffReply(em, p, group, body, now));
    await this.afterStaffReply(p, group, msg, answered);
    return (await this.present([msg], { kind: 'staff', staffId: p.staffId }))[0];
  }

  async afterStaffReply(p: StaffPrincipal, group: ButlerGroup, msg: GroupMessage, answered: number[]): Promise<void> {
    await this.upsertReader(group.id, 'staff', p.staffId, (r) => ({ lastReadId: Math.max(r?.lastReadId ?? 0, msg.id) }));
    await this.fanOut(group, msg, null);
    for (const id of answered) this.publishArea(group.areaId, { type: 'inbox', groupId: group.id, messageId: id, change: 'answered', staffId: p.staffId });
  }

  /**
   * A staff message; quoting a resident's open question answers it (and what they asked before
   * it), claiming their conversation by the one conditional UPDATE (CLAIMED_BY_OTHER otherwise).
   */
  async insertStaffReply(
    em: EntityManager,
    p: StaffPrincipal,
    group: ButlerGroup,
    body: PostInput,
    now: Date,
  ): Promise<{ msg: GroupMessage; answered: number[] }> {
    let open: GroupMessage[] = [];
    let conversationId: number | null = null;
    if (body.quoteId) {
      const quoted = await forUpdate(
        em.createQueryBuilder(GroupMessage, 'm').where('m.id = :id AND m.groupId = :g', { id: body.quoteId, g: group.id }),
      ).getOne();
      if (!quoted) throw new AppError('MESSAGE_NOT_FOUND');
      if (quoted.senderKind === 'resident' && !quoted.answeredAt && quoted.conversationId) {
        conversationId = quoted.conversationId;
        await takeConversation(em, conversationId, p.staffId, now, (id) => this.staffName(id));
        // the reply answers the quoted question and anything the same resident asked before it
        open = await em
          .createQueryBuilder(GroupMessage, 'm')
          .where('m.conversationId = :c AND m.id <= :id AND m.answeredAt IS NULL', { c: conversationId, id: quoted.id })
          .getMany();
      }
    }
    const msg = await em.save(
      em.create(GroupMessage, {
        groupId: group.id,
        areaId: group.areaId,
        kind: body.text ? 'text' : body.photo ? 'image' : body.link ? 'link' : 'text',
        senderKind: 'staff',
        senderId: p.staffId,
        senderLabel: p.name,
        senderRole: roleLabel(p.roles),
        text: body.text ?? null,
        imageUrl: body.photo ?? null,
        link: body.link ?? null,
        quoteId: body.quoteId ?? null,
        announcementId: null,
        pinned: false,
        ...UNHANDLED,
        createdAt: now,
      }),
    );
    const answered = conversationId ? await recordAnswer(em, conversationId, open, p.staffId, now) : [];
    return { msg, answered };
  }
}
