/**
 * What every part of the groups module shares: its dependencies, group and membership lookups,
 * read positions, what a viewer may see, how a message is presented, and realtime fan-out.
 */
import { In, IsNull, type DataSource, type EntityManager } from 'typeorm';
import { ANNOUNCEMENT_TYPE_LABEL, HELP_LINKS, STAFF_ROLE_LABEL, maskName, type GroupMessageView, type StaffRole } from '@heat-butler/shared';
import { AppError } from '../../platform/errors';
import { isUniqueViolation } from '../../platform/db/data-source';
import { assertStaffArea, staffAreaFilter, type StaffPrincipal } from '../../platform/auth';
import type { RealtimeHub } from '../../platform/realtime';
import type { Limiter } from '../../platform/limits';
import type { Logger } from '../../platform/logger';
import type { AccountsService } from '../accounts';
import type { BillingService } from '../billing';
import type { IdentityService } from '../identity';
import type { CompanyService } from '../company';
import type { NotificationsService } from '../notifications';
import type { ModerationService } from '../moderation';
import type { RepairsService } from '../repairs';
import type { UploadsService } from '../../platform/uploads/service';
import { Announcement, ButlerGroup, GroupMember, GroupMessage, GroupReader, MessageReport } from './entities';
import { conversationsByIds } from './conversations';

/** Staff who talk to residents in the groups: they read the chat (routes, realtime, summaries). */
export const GROUP_STAFF = ['agent', 'butler', 'admin'] as const satisfies readonly StaffRole[];
export const worksGroups = (p: StaffPrincipal) => p.roles.some((r) => (GROUP_STAFF as readonly StaffRole[]).includes(r));

/** A message nobody has answered or hidden yet. */
export const UNHANDLED = {
  conversationId: null,
  answeredAt: null,
  answeredBy: null,
  responseSeconds: null,
  hiddenAt: null,
  hiddenBy: null,
  hideReason: null,
} as const;

export type Viewer = { kind: 'resident'; residentId: number } | { kind: 'staff'; staffId: number };

export interface GroupsDeps {
  ds: DataSource;
  clock: () => Date;
  log: Logger;
  accounts: AccountsService;
  /** the bills beside a question in the inbox (context.ts) */
  billing: BillingService;
  identity: IdentityService;
  company: CompanyService;
  notifications: NotificationsService;
  realtime: RealtimeHub;
  /** turning a message into a repair ticket */
  repairs: RepairsService;
  /** the per-resident posting quota (post.resident) */
  limiter: Limiter;
  /** content security of what residents post */
  moderation: ModerationService;
  /** message photos: the sender's own chat_photo uploads, shown by signed links */
  uploads: UploadsService;
}

/** 长春市朝阳区湖西路166号锦绣家园 -> 锦绣家园 */
export function estateOf(address: string): string {
  const m = /号([^号]+)$/.exec(address);
  return (m ? m[1] : address).trim().slice(0, 40);
}

export const seconds = (a: Date, b: Date) => Math.max(0, Math.round((b.getTime() - a.getTime()) / 1000));

/** The role shown next to a staff member's name: the most resident-facing of their roles. */
export function roleLabel(roles: StaffRole[]): string {
  const order: StaffRole[] = ['butler', 'agent', 'dispatcher', 'station', 'worker', 'finance', 'admin'];
  const r = order.find((x) => roles.includes(x)) ?? roles[0];
  return r ? STAFF_ROLE_LABEL[r] : '';
}

export class GroupsCore {
  constructor(protected d: GroupsDeps) {}

  protected get ds() {
    return this.d.ds;
  }

  protected async isMember(em: EntityManager, groupId: number, residentId: number): Promise<boolean> {
    return (await em.count(GroupMember, { where: { groupId, residentId, leftAt: IsNull() } })) > 0;
  }

  protected async residentGroupIds(residentId: number): Promise<number[]> {
    const rows = await this.ds.getRepository(GroupMember).find({ where: { residentId, leftAt: IsNull() } });
    return [...new Set(rows.map((r) => r.groupId))].sort((a, b) => a - b);
  }

  /** The group if the resident is a member; GROUP_NOT_FOUND otherwise (other buildings stay invisible). */
  protected async residentGroup(residentId: number, groupId: number): Promise<ButlerGroup> {
    const group = await this.ds.getRepository(ButlerGroup).findOne({ where: { id: groupId } });
    if (!group || !(await this.isMember(this.ds.manager, groupId, residentId))) throw new AppError('GROUP_NOT_FOUND');
    return group;
  }

  protected async staffGroup(p: StaffPrincipal, groupId: number): Promise<ButlerGroup> {
    const group = await this.ds.getRepository(ButlerGroup).findOne({ where: { id: groupId } });
    if (!group) throw new AppError('GROUP_NOT_FOUND');
    assertStaffArea(p, group.areaId);
    return group;
  }

  protected async groupByBuilding(buildingId: number): Promise<ButlerGroup | null> {
    return this.ds.getRepository(ButlerGroup).findOne({ where: { buildingId } });
  }

  /** Shown label of a resident in a group: "3单元 王**" from their (first) account in the building. */
  protected async residentLabel(groupId: number, residentId: number): Promise<{ label: string; unit: string; name: string }> {
    const m = await this.ds.getRepository(GroupMember).findOne({ where: { groupId, residentId, leftAt: IsNull() }, order: { id: 'ASC' } });
    const account = m ? await this.d.accounts.unitAndOwner(m.accountId) : null;
    if (!account) return { label: '住户', unit: '', name: '住户' };
    const unit = account.unitNo;
    const name = maskName(account.ownerName);
    return { label: unit ? `${unit}单元 ${name}` : name, unit: unit ? `${unit}单元` : '', name };
  }

  protected async memberCount(groupId: number): Promise<number> {
    const r = await this.ds
      .getRepository(GroupMember)
      .createQueryBuilder('gm')
      .select('COUNT(DISTINCT gm.residentId)', 'n')
      .where('gm.groupId = :g AND gm.leftAt IS NULL', { g: groupId })
      .getRawOne();
    return Number(r?.n ?? 0);
  }

  /** Messages of a group the viewer may see (residents: not hidden). */
  protected visible(groupId: number, viewer: Viewer) {
    const qb = this.ds.getRepository(GroupMessage).createQueryBuilder('m').where('m.groupId = :g', { g: groupId });
    if (viewer.kind === 'resident') {
      qb.andWhere('m.hiddenAt IS NULL');
      // a photo under content review: only its sender sees it (审核中)
      qb.andWhere("(m.moderation IS NULL OR m.moderation <> 'pending' OR (m.senderKind = 'resident' AND m.senderId = :viewerId))", {
        viewerId: viewer.residentId,
      });
    }
    return qb;
  }

  protected async unreadCount(groupId: number, viewer: Viewer, lastReadId: number): Promise<number> {
    const qb = this.visible(groupId, viewer).andWhere('m.id > :r', { r: lastReadId });
    qb.andWhere('NOT (m.senderKind = :k AND m.senderId = :me)', { k: viewer.kind, me: viewer.kind === 'resident' ? viewer.residentId : viewer.staffId });
    return qb.getCount();
  }

  protected async reader(groupId: number, kind: 'resident' | 'staff', id: number): Promise<GroupReader | null> {
    return this.ds.getRepository(GroupReader).findOne({ where: { groupId, readerKind: kind, readerId: id } });
  }

  protected async upsertReader(groupId: number, kind: 'resident' | 'staff', readerId: number, patch: (r: GroupReader | null) => Partial<GroupReader>) {
    const repo = this.ds.getRepository(GroupReader);
    for (let attempt = 0; ; attempt++) {
      const r = await this.reader(groupId, kind, readerId);
      if (r) return repo.update(r.id, patch(r));
      try {
        return await repo.insert({ groupId, readerKind: kind, readerId, lastReadId: 0, mutedUntil: null, mutedBy: null, muteReason: null, ...patch(null) });
      } catch (err) {
        if (!isUniqueViolation(err) || attempt > 0) throw err;
      }
    }
  }

  protected scopedGroups(p: StaffPrincipal) {
    const scope = staffAreaFilter(p);
    const qb = this.ds.getRepository(ButlerGroup).createQueryBuilder('g');
    if (scope !== 'all') {
      if (!scope.length) qb.where('1 = 0');
      else qb.where('g.areaId IN (:...areas)', { areas: scope });
    }
    return qb.orderBy('g.id', 'ASC');
  }

  protected async joinRates(groups: ButlerGroup[]): Promise<Map<number, { households: number; joined: number; rate: number }>> {
    const households = await this.d.accounts.accountCountsByBuilding(groups.map((g) => g.buildingId));
    const joinedRows: { groupId: number; n: string | number }[] = groups.length
      ? await this.ds
          .getRepository(GroupMember)
          .createQueryBuilder('gm')
          .select('gm.groupId', 'groupId')
          .addSelect('COUNT(DISTINCT gm.accountId)', 'n')
          .where('gm.groupId IN (:...ids)', { ids: groups.map((g) => g.id) })
          .andWhere('gm.leftAt IS NULL')
          .groupBy('gm.groupId')
          .getRawMany()
      : [];
    const joined = new Map(joinedRows.map((r) => [Number(r.groupId), Number(r.n)]));
    const out = new Map<number, { households: number; joined: number; rate: number }>();
    for (const g of groups) {
      const h = households.get(g.buildingId) ?? 0;
      const j = joined.get(g.id) ?? 0;
      out.set(g.id, { households: h, joined: j, rate: h ? Math.round((j / h) * 1000) / 1000 : 0 });
    }
    return out;
  }

  protected async staffName(staffId: number): Promise<string> {
    return (await this.d.identity.staffByIds([staffId]))[0]?.name ?? '';
  }

  // ---- inbox --------------------------------------------------------------------------------

  protected pendingQuery() {
    return this.ds
      .getRepository(GroupMessage)
      .createQueryBuilder('m')
      .where('m.senderKind = :rk', { rk: 'resident' })
      .andWhere('m.answeredAt IS NULL')
      .andWhere('m.hiddenAt IS NULL');
  }

  protected async present(msgs: GroupMessage[], viewer: Viewer): Promise<GroupMessageView[]> {
    if (!msgs.length) return [];
    const quoteIds = [...new Set(msgs.map((m) => m.quoteId).filter((x): x is number => !!x))];
    const quotes = new Map((quoteIds.length ? await this.ds.getRepository(GroupMessage).find({ where: { id: In(quoteIds) } }) : []).map((q) => [q.id, q]));
    const annIds = [...new Set(msgs.map((m) => m.announcementId).filter((x): x is number => !!x))];
    const anns = new Map((annIds.length ? await this.ds.getRepository(Announcement).find({ where: { id: In(annIds) } }) : []).map((a) => [a.id, a]));
    const staff = viewer.kind === 'staff';
    let claimers = new Map<number, string>();
    let reportCounts = new Map<number, number>();
    // who handles a resident's question: whoever answered it, else its conversation's assignee
    const handler = new Map<number, number>();
    if (staff) {
      const convs = await conversationsByIds(
        this.ds.manager,
        msgs.map((m) => m.conversationId).filter((x): x is number => !!x),
      );
      for (const m of msgs) {
        const by = m.answeredAt ? m.answeredBy : m.conversationId ? convs.get(m.conversationId)?.assigneeId : null;
        if (by) handler.set(m.id, by);
      }
      claimers = new Map((await this.d.identity.staffByIds([...new Set(handler.values())])).map((s) => [s.id, s.name]));
      const rows: { messageId: number; n: string | number }[] = await this.ds
        .getRepository(MessageReport)
        .createQueryBuilder('r')
        .select('r.messageId', 'messageId')
        .addSelect('COUNT(*)', 'n')
        .where('r.messageId IN (:...ids)', { ids: msgs.map((m) => m.id) })
        .groupBy('r.messageId')
        .getRawMany();
      reportCounts = new Map(rows.map((r) => [Number(r.messageId), Number(r.n)]));
    }
    return msgs.map((m) => {
      const q = m.quoteId ? quotes.get(m.quoteId) : undefined;
      const a = m.announcementId ? anns.get(m.announcementId) : undefined;
      const mine = viewer.kind === m.senderKind && (viewer.kind === 'resident' ? viewer.residentId : viewer.staffId) === m.senderId;
      const view: GroupMessageView = {
        id: m.id,
        groupId: m.groupId,
        kind: m.kind,
        sender: {
          kind: m.senderKind,
          label: m.senderLabel,
          role: m.senderRole,
          mine,
          ...(staff && m.senderKind === 'resident' ? { residentId: m.senderId } : {}),
        },
        text: m.text,
        imageUrl: m.imageUrl ? this.d.uploads.link(m.imageUrl) : null,
        link: m.link && m.link in HELP_LINKS ? { ...HELP_LINKS[m.link as keyof typeof HELP_LINKS] } : null,
        quote: q ? { id: q.id, label: q.senderLabel, text: q.hiddenAt && !staff ? '该消息已被隐藏' : q.text } : null,
        announcement: a
          ? {
              id: a.id,
              type: a.type,
              typeLabel: ANNOUNCEMENT_TYPE_LABEL[a.type],
              title: a.title,
              expectedRestoreAt: a.expectedRestoreAt?.toISOString() ?? null,
            }
          : null,
        createdAt: m.createdAt.toISOString(),
      };
      if (staff || mine) view.moderation = m.moderation ?? null;
      if (staff) {
        view.hidden = !!m.hiddenAt;
        view.hideReason = m.hideReason;
        view.answeredAt = m.answeredAt?.toISOString() ?? null;
        const by = handler.get(m.id);
        view.claimedBy = by ? { staffId: by, name: claimers.get(by) ?? '' } : null;
        view.reports = reportCounts.get(m.id) ?? 0;
        if (m.senderKind === 'resident') view.repairTicketId = m.repairTicketId || null;
      }
      return view;
    });
  }

  protected publishArea(areaId: number, event: Record<string, unknown>): void {
    this.d.realtime.publish(`area:${areaId}`, event);
    this.d.realtime.publish('area:all', event);
  }

  /** Deliver a new message to residents online in the group and to staff of the area. */
  protected async fanOut(group: ButlerGroup, msg: GroupMessage, inbox: 'new' | null, audience: 'all' | 'staff' = 'all'): Promise<void> {
    if (audience === 'all') {
      const [residentView] = await this.present([msg], { kind: 'resident', residentId: 0 });
      this.d.realtime.publish(`group:${group.id}`, { type: 'message', message: residentView });
    }
    const [staffView] = await this.present([msg], { kind: 'staff', staffId: 0 });
    this.publishArea(group.areaId, { type: 'message', groupId: group.id, message: staffView });
    if (inbox) this.publishArea(group.areaId, { type: 'inbox', groupId: group.id, messageId: msg.id, change: inbox });
  }
}
