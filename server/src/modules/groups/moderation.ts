import { In, IsNull } from 'typeorm';
import type { GroupMessageView } from '@heat-butler/shared';
import { AppError } from '../../platform/errors';
import { assertStaffArea, staffAreaFilter, type StaffPrincipal } from '../../platform/auth';
import { GroupMessage, GroupReader, MessageReport } from './entities';
import { GroupsCore } from './core';
import { settleConversation } from './conversations';

/** Staff moderation in the groups: hide (kept for audit), pin, mute, and residents' reports. */
export class GroupModeration extends GroupsCore {
  /** Hide a message from residents; the row stays (who, when, why) for audit. */
  async hide(p: StaffPrincipal, messageId: number, reason: string): Promise<GroupMessageView> {
    const msg = await this.ds.getRepository(GroupMessage).findOne({ where: { id: messageId } });
    if (!msg) throw new AppError('MESSAGE_NOT_FOUND');
    assertStaffArea(p, msg.areaId);
    await this.ds
      .getRepository(GroupMessage)
      .update({ id: messageId, hiddenAt: IsNull() }, { hiddenAt: this.d.clock(), hiddenBy: p.staffId, hideReason: reason });
    if (msg.conversationId) await settleConversation(this.ds.manager, msg.conversationId);
    this.d.realtime.publish(`group:${msg.groupId}`, { type: 'hidden', groupId: msg.groupId, messageId });
    this.publishArea(msg.areaId, { type: 'inbox', groupId: msg.groupId, messageId, change: 'hidden', staffId: p.staffId });
    const fresh = await this.ds.getRepository(GroupMessage).findOneByOrFail({ id: messageId });
    return (await this.present([fresh], { kind: 'staff', staffId: p.staffId }))[0];
  }

  async pin(p: StaffPrincipal, messageId: number, pinned: boolean): Promise<void> {
    const msg = await this.ds.getRepository(GroupMessage).findOne({ where: { id: messageId } });
    if (!msg) throw new AppError('MESSAGE_NOT_FOUND');
    assertStaffArea(p, msg.areaId);
    await this.ds.getRepository(GroupMessage).update(messageId, { pinned });
    this.d.realtime.publish(`group:${msg.groupId}`, { type: 'pinned', groupId: msg.groupId, messageId, pinned });
  }

  async mute(p: StaffPrincipal, groupId: number, input: { residentId: number; minutes: number; reason?: string }): Promise<{ mutedUntil: string }> {
    const group = await this.staffGroup(p, groupId);
    if (!(await this.isMember(this.ds.manager, group.id, input.residentId))) throw new AppError('NOT_FOUND');
    const until = new Date(this.d.clock().getTime() + input.minutes * 60_000);
    await this.upsertReader(group.id, 'resident', input.residentId, () => ({ mutedUntil: until, mutedBy: p.staffId, muteReason: input.reason ?? null }));
    return { mutedUntil: until.toISOString() };
  }

  async unmute(p: StaffPrincipal, groupId: number, residentId: number): Promise<void> {
    const group = await this.staffGroup(p, groupId);
    await this.ds
      .getRepository(GroupReader)
      .update({ groupId: group.id, readerKind: 'resident', readerId: residentId }, { mutedUntil: null, mutedBy: null, muteReason: null });
  }

  async reports(p: StaffPrincipal) {
    const scope = staffAreaFilter(p);
    const qb = this.ds.getRepository(MessageReport).createQueryBuilder('r').innerJoin(GroupMessage, 'm', 'm.id = r.messageId');
    if (scope !== 'all') {
      if (!scope.length) return [];
      qb.where('m.areaId IN (:...areas)', { areas: scope });
    }
    const reports = await qb.orderBy('r.id', 'DESC').limit(200).getMany();
    const msgs = await this.ds.getRepository(GroupMessage).find({ where: { id: In([0, ...reports.map((r) => r.messageId)]) } });
    const views = new Map((await this.present(msgs, { kind: 'staff', staffId: p.staffId })).map((v) => [v.id, v]));
    return reports.map((r) => ({ id: r.id, reason: r.reason, at: r.at.toISOString(), message: views.get(r.messageId)! }));
  }
}
