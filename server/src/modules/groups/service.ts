/**
 * 管家群: one group per building, membership following account bindings, messages with masked
 * resident names, realtime fan-out, the agents' inbox (claims, replies, canned replies, notes),
 * moderation, announcements pushed as subscription messages, and response metrics.
 */
import { In, IsNull, type DataSource, type EntityManager } from 'typeorm';
import {
  ANNOUNCEMENT_NEEDS_RESTORE,
  ANNOUNCEMENT_TYPE_LABEL,
  HELP_LINKS,
  STAFF_ROLE_LABEL,
  formatChinaTime,
  maskName,
  renderCannedReply,
  responseStats,
  AnnouncementBody,
  MessageToRepairBody,
  PostMessage,
  type CannedCategory,
  type GroupMessageView,
  type GroupMetrics,
  type GroupSummary,
  type InboxItem,
  type Page,
  type StaffGroupSummary,
  type StaffRole,
} from '@heat-butler/shared';
import { z } from 'zod';
import { AppError } from '../../platform/errors';
import { forUpdate, isUniqueViolation, withTx } from '../../platform/db/data-source';
import { staffAreaFilter, assertStaffArea, type AuthPrincipal, type ResidentPrincipal, type StaffPrincipal } from '../../platform/auth';
import { scopeToAreas } from '../../platform/scope';
import { outboxStatusCounts } from '../../platform/outbox';
import type { RealtimeHub } from '../../platform/realtime';
import type { Limiter } from '../../platform/limits';
import type { Logger } from '../../platform/logger';
import type { AccountsService, BindingChange, Building } from '../accounts';
import type { IdentityService } from '../identity';
import type { CompanyService } from '../company';
import type { NotificationsService } from '../notifications';
import type { ModerationService, PhotoVerdict } from '../moderation';
import type { RepairsService } from '../repairs';
import type { UploadsService } from '../../platform/uploads/service';
import { Announcement, ButlerGroup, CannedReply, GroupMember, GroupMessage, GroupReader, MessageReport, StaffNote } from './entities';

type PostInput = z.output<typeof PostMessage>;
type AnnounceInput = z.output<typeof AnnouncementBody>;
type ToRepairInput = z.output<typeof MessageToRepairBody>;

/** Staff who talk to residents in the groups: they read the chat (routes, realtime, summaries). */
export const GROUP_STAFF = ['agent', 'butler', 'admin'] as const satisfies readonly StaffRole[];
export const worksGroups = (p: StaffPrincipal) => p.roles.some((r) => (GROUP_STAFF as readonly StaffRole[]).includes(r));

/** A claim nobody acted on for this long may be taken over by another agent. */
export const CLAIM_TTL_MS = 15 * 60 * 1000;

/** A message nobody has claimed, answered or hidden yet. */
const UNHANDLED = {
  claimedBy: null,
  claimedAt: null,
  answeredAt: null,
  answeredBy: null,
  hiddenAt: null,
  hiddenBy: null,
  hideReason: null,
} as const;

type Viewer = { kind: 'resident'; residentId: number } | { kind: 'staff'; staffId: number };

export interface GroupsDeps {
  ds: DataSource;
  clock: () => Date;
  log: Logger;
  accounts: AccountsService;
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

/** The company's starting library of standard replies (话术); admins edit it afterwards. */
export const DEFAULT_CANNED: { category: CannedCategory; title: string; body: string }[] = [
  {
    category: 'room_temp',
    title: '室温不达标',
    body: '您好，{住户}，{小区}{楼栋}的室温问题已收到。请在早6—8点或晚4—8点关闭门窗1小时后，测量卧室中央距地面1米处的温度；低于18℃我们将安排上门检测。供热热线：{热线}',
  },
  { category: 'payment', title: '缴费方式', body: '您好，{住户}，您可以在本小程序“账单”页直接微信缴费，缴费成功后可在“缴费记录”查看凭证。如有疑问请拨打{热线}' },
  { category: 'invoice', title: '开具发票', body: '您好，缴费成功后可在“缴费记录”中申请电子发票，填写抬头和税号后1个工作日内开具。如需帮助请拨打{热线}' },
  { category: 'stop_resume', title: '报停复供', body: '您好，{住户}，报停/复供请在每年9月20日前通过小程序“服务”页提交申请，报停期间按面积收取基础热费。详询{热线}' },
  { category: 'repair', title: '报修受理', body: '您好，{小区}{楼栋}{单元}的报修已收到，维修师傅将尽快与您联系；如遇跑水等紧急情况请立即拨打{热线}' },
  { category: 'other', title: '问候', body: '您好，我是{公司}的{客服}，很高兴为您服务，请问有什么可以帮您？' },
];

/** 长春市朝阳区湖西路166号锦绣家园 -> 锦绣家园 */
export function estateOf(address: string): string {
  const m = /号([^号]+)$/.exec(address);
  return (m ? m[1] : address).trim().slice(0, 40);
}

const seconds = (a: Date, b: Date) => Math.max(0, Math.round((b.getTime() - a.getTime()) / 1000));

export class GroupsService {
  constructor(private d: GroupsDeps) {}

  private get ds() {
    return this.d.ds;
  }

  /** Hooks into the realtime hub, identity and moderation (accounts' events: reactions.ts). */
  register(): void {
    this.d.realtime.setAuthenticator((token) => this.d.identity.resolveToken(token));
    this.d.realtime.setTopicProvider((p) => this.topicsFor(p));
    this.d.identity.onSessionChange((c) => ('sessionId' in c ? this.d.realtime.endSession(c.sessionId) : this.d.realtime.recheckPrincipal(`s:${c.staffId}`)));
    this.d.moderation.onPhotoVerdict('group_message', (v) => this.onPhotoVerdict(v.subjectId, v.verdict));
  }

  // ---- groups and membership ----------------------------------------------------------------

  async ensureGroup(building: Building, em: EntityManager = this.ds.manager): Promise<{ group: ButlerGroup; created: boolean }> {
    const existing = await em.findOne(ButlerGroup, { where: { buildingId: building.id } });
    if (existing) return { group: existing, created: false };
    try {
      const group = await em.save(
        em.create(ButlerGroup, {
          buildingId: building.id,
          areaId: building.areaId,
          name: `${estateOf(building.address)}${building.name}供热管家群`.slice(0, 100),
        }),
      );
      return { group, created: true };
    } catch (err) {
      if (isUniqueViolation(err)) return { group: await em.findOneOrFail(ButlerGroup, { where: { buildingId: building.id } }), created: false };
      throw err;
    }
  }

  /**
   * At start: every building has its group (buildings created before this module existed too),
   * residents already bound there become members, and the canned-reply library exists.
   */
  async ensureGroups(): Promise<{ created: number }> {
    let created = 0;
    for (const b of await this.d.accounts.listBuildings()) {
      const r = await this.ensureGroup(b);
      if (!r.created) continue;
      created++;
      // backfill: active bindings of the building
      for (const row of await this.d.accounts.activeBindingsOfBuilding(b.id)) {
        await withTx(this.ds, (em) => this.onBindingChange(em, { residentId: row.residentId, accountId: row.accountId, buildingId: b.id, bound: true }));
      }
    }
    if ((await this.ds.getRepository(CannedReply).count()) === 0) {
      await this.ds.getRepository(CannedReply).insert(DEFAULT_CANNED.map((c) => ({ ...c, useCount: 0 })));
    }
    return { created };
  }

  /** Join on bind, leave on unbind; runs inside the binding's transaction. */
  async onBindingChange(em: EntityManager, c: BindingChange): Promise<void> {
    let group = await em.findOne(ButlerGroup, { where: { buildingId: c.buildingId } });
    if (!group) {
      const [building] = await this.d.accounts.buildingsByIds([c.buildingId], em);
      if (!building) return;
      group = (await this.ensureGroup(building, em)).group;
    }
    const now = this.d.clock();
    const wasMember = await this.isMember(em, group.id, c.residentId);
    const row = await em.findOne(GroupMember, { where: { groupId: group.id, residentId: c.residentId, accountId: c.accountId } });
    if (c.bound) {
      if (row) await em.update(GroupMember, row.id, { leftAt: null, joinedAt: row.leftAt ? now : row.joinedAt });
      else await em.insert(GroupMember, { groupId: group.id, residentId: c.residentId, accountId: c.accountId, joinedAt: now, leftAt: null });
      if (!wasMember) this.d.realtime.subscribe(`r:${c.residentId}`, `group:${group.id}`, true);
    } else {
      if (row && !row.leftAt) await em.update(GroupMember, row.id, { leftAt: now });
      if (wasMember && !(await this.isMember(em, group.id, c.residentId))) this.d.realtime.subscribe(`r:${c.residentId}`, `group:${group.id}`, false);
    }
  }

  private async isMember(em: EntityManager, groupId: number, residentId: number): Promise<boolean> {
    return (await em.count(GroupMember, { where: { groupId, residentId, leftAt: IsNull() } })) > 0;
  }

  /**
   * What a socket receives, by the same rules as the HTTP routes: residents their groups' messages;
   * staff who work the groups (GROUP_STAFF) the messages and inbox changes of their areas;
   * every other role nothing (no chat, no resident ids).
   */
  private async topicsFor(p: AuthPrincipal): Promise<string[]> {
    if (p.kind === 'resident') return (await this.residentGroupIds(p.residentId)).map((id) => `group:${id}`);
    if (!worksGroups(p)) return [];
    const scope = staffAreaFilter(p);
    return scope === 'all' ? ['area:all'] : scope.map((a) => `area:${a}`);
  }

  private async residentGroupIds(residentId: number): Promise<number[]> {
    const rows = await this.ds.getRepository(GroupMember).find({ where: { residentId, leftAt: IsNull() } });
    return [...new Set(rows.map((r) => r.groupId))].sort((a, b) => a - b);
  }

  /** The group if the resident is a member; GROUP_NOT_FOUND otherwise (other buildings stay invisible). */
  private async residentGroup(residentId: number, groupId: number): Promise<ButlerGroup> {
    const group = await this.ds.getRepository(ButlerGroup).findOne({ where: { id: groupId } });
    if (!group || !(await this.isMember(this.ds.manager, groupId, residentId))) throw new AppError('GROUP_NOT_FOUND');
    return group;
  }

  private async staffGroup(p: StaffPrincipal, groupId: number): Promise<ButlerGroup> {
    const group = await this.ds.getRepository(ButlerGroup).findOne({ where: { id: groupId } });
    if (!group) throw new AppError('GROUP_NOT_FOUND');
    assertStaffArea(p, group.areaId);
    return group;
  }

  private async groupByBuilding(buildingId: number): Promise<ButlerGroup | null> {
    return this.ds.getRepository(ButlerGroup).findOne({ where: { buildingId } });
  }

  /** Shown label of a resident in a group: "3单元 王**" from their (first) account in the building. */
  private async residentLabel(groupId: number, residentId: number): Promise<{ label: string; unit: string; name: string }> {
    const m = await this.ds.getRepository(GroupMember).findOne({ where: { groupId, residentId, leftAt: IsNull() }, order: { id: 'ASC' } });
    const account = m ? await this.d.accounts.account(m.accountId) : null;
    if (!account) return { label: '住户', unit: '', name: '住户' };
    const ctx = await this.d.accounts.addressContext([account]);
    const unit = ctx.units.get(account.unitId)?.no;
    const name = maskName(account.ownerName);
    return { label: unit ? `${unit}单元 ${name}` : name, unit: unit ? `${unit}单元` : '', name };
  }

  // ---- residents ----------------------------------------------------------------------------

  async groupsForResident(p: ResidentPrincipal): Promise<GroupSummary[]> {
    const ids = await this.residentGroupIds(p.residentId);
    if (!ids.length) return [];
    const groups = await this.ds.getRepository(ButlerGroup).find({ where: { id: In(ids) }, order: { id: 'ASC' } });
    const viewer: Viewer = { kind: 'resident', residentId: p.residentId };
    const out: GroupSummary[] = [];
    for (const g of groups) {
      const reader = await this.reader(g.id, 'resident', p.residentId);
      const last = await this.visible(g.id, viewer).orderBy('m.id', 'DESC').limit(1).getMany();
      const pinned = await this.visible(g.id, viewer).andWhere('m.pinned = :t', { t: true }).orderBy('m.id', 'DESC').limit(3).getMany();
      const now = this.d.clock();
      out.push({
        id: g.id,
        buildingId: g.buildingId,
        name: g.name,
        areaId: g.areaId,
        memberCount: await this.memberCount(g.id),
        unread: await this.unreadCount(g.id, viewer, reader?.lastReadId ?? 0),
        lastMessage: (await this.present(last, viewer))[0] ?? null,
        pinned: await this.present(pinned, viewer),
        mutedUntil: reader?.mutedUntil && reader.mutedUntil > now ? reader.mutedUntil.toISOString() : null,
      });
    }
    return out;
  }

  private async memberCount(groupId: number): Promise<number> {
    const r = await this.ds
      .getRepository(GroupMember)
      .createQueryBuilder('gm')
      .select('COUNT(DISTINCT gm.residentId)', 'n')
      .where('gm.groupId = :g AND gm.leftAt IS NULL', { g: groupId })
      .getRawOne();
    return Number(r?.n ?? 0);
  }

  /** Messages of a group the viewer may see (residents: not hidden). */
  private visible(groupId: number, viewer: Viewer) {
    const qb = this.ds.getRepository(GroupMessage).createQueryBuilder('m').where('m.groupId = :g', { g: groupId });
    if (viewer.kind === 'resident') {
      qb.andWhere('m.hiddenAt IS NULL');
      // a photo under content review: only its sender sees it (审核中)
      qb.andWhere("(m.moderation IS NULL OR m.moderation <> 'pending' OR (m.senderKind = 'resident' AND m.senderId = :viewerId))", { viewerId: viewer.residentId });
    }
    return qb;
  }

  private async unreadCount(groupId: number, viewer: Viewer, lastReadId: number): Promise<number> {
    const qb = this.visible(groupId, viewer).andWhere('m.id > :r', { r: lastReadId });
    qb.andWhere('NOT (m.senderKind = :k AND m.senderId = :me)', { k: viewer.kind, me: viewer.kind === 'resident' ? viewer.residentId : viewer.staffId });
    return qb.getCount();
  }

  private async reader(groupId: number, kind: 'resident' | 'staff', id: number): Promise<GroupReader | null> {
    return this.ds.getRepository(GroupReader).findOne({ where: { groupId, readerKind: kind, readerId: id } });
  }

  /** Newest first with `before`; the polling fallback with `after` (oldest first). */
  async messages(p: AuthPrincipal, groupId: number, q: { before?: number; after?: number; limit: number }) {
    const group = p.kind === 'resident' ? await this.residentGroup(p.residentId, groupId) : await this.staffGroup(p, groupId);
    const viewer: Viewer = p.kind === 'resident' ? { kind: 'resident', residentId: p.residentId } : { kind: 'staff', staffId: p.staffId };
    const qb = this.visible(group.id, viewer);
    let rows: GroupMessage[];
    if (q.after !== undefined) {
      rows = await qb.andWhere('m.id > :a', { a: q.after }).orderBy('m.id', 'ASC').limit(q.limit + 1).getMany();
    } else {
      if (q.before) qb.andWhere('m.id < :b', { b: q.before });
      rows = await qb.orderBy('m.id', 'DESC').limit(q.limit + 1).getMany();
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

  private async upsertReader(groupId: number, kind: 'resident' | 'staff', readerId: number, patch: (r: GroupReader | null) => Partial<GroupReader>) {
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
    // content security: text before publishing (risky is refused), the photo after (审核中 until WeChat's verdict)
    const text = body.text ? await this.d.moderation.checkText(p.residentId, body.text, { subjectType: 'group_message', scene: 3, areaId: group.areaId }) : null;
    const who = await this.residentLabel(group.id, p.residentId);
    const msg = await this.ds.getRepository(GroupMessage).save(
      this.ds.getRepository(GroupMessage).create({
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
        createdAt: now,
      }),
    );
    if (text) await this.d.moderation.link([text.recordId], msg.id);
    await this.upsertReader(group.id, 'resident', p.residentId, (r) => ({ lastReadId: Math.max(r?.lastReadId ?? 0, msg.id) }));
    if (body.photo) {
      await this.d.moderation.checkPhoto(p.residentId, body.photo, { subjectType: 'group_message', subjectId: msg.id, scene: 3, areaId: group.areaId });
      // the verdict may already be in (or WeChat could not check): publish by what the row says now
      const now2 = await this.ds.getRepository(GroupMessage).findOneOrFail({ where: { id: msg.id }, select: { id: true, moderation: true, hiddenAt: true, hideReason: true } });
      msg.moderation = now2.moderation;
      msg.hiddenAt = now2.hiddenAt;
      msg.hideReason = now2.hideReason;
    }
    // under review: staff see it at once, the group once WeChat passed it (onPhotoVerdict)
    await this.fanOut(group, msg, 'new', msg.moderation === 'pending' || msg.hiddenAt ? 'staff' : 'all');
    return (await this.present([msg], { kind: 'resident', residentId: p.residentId }))[0];
  }

  /** WeChat's verdict on a resident's photo: publish it (pass; review/error flagged) or remove it (risky). */
  private async onPhotoVerdict(messageId: number, verdict: PhotoVerdict): Promise<void> {
    const repo = this.ds.getRepository(GroupMessage);
    const msg = await repo.findOne({ where: { id: messageId } });
    if (!msg || msg.moderation !== 'pending') return;
    const group = await this.ds.getRepository(ButlerGroup).findOneByOrFail({ id: msg.groupId });
    if (verdict === 'risky') {
      const res = await repo.update({ id: msg.id, moderation: 'pending' }, { moderation: 'flagged', hiddenAt: this.d.clock(), hiddenBy: null, hideReason: '图片未通过微信内容安全审核' });
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

  // ---- staff: groups and messages -----------------------------------------------------------

  private scopedGroups(p: StaffPrincipal) {
    const scope = staffAreaFilter(p);
    const qb = this.ds.getRepository(ButlerGroup).createQueryBuilder('g');
    if (scope !== 'all') {
      if (!scope.length) qb.where('1 = 0');
      else qb.where('g.areaId IN (:...areas)', { areas: scope });
    }
    return qb.orderBy('g.id', 'ASC');
  }

  async groupsForStaff(p: StaffPrincipal): Promise<StaffGroupSummary[]> {
    const groups = await this.scopedGroups(p).getMany();
    const rates = await this.joinRates(groups);
    const staffByArea = await this.staffOfAreas([...new Set(groups.map((g) => g.areaId))]);
    const viewer: Viewer = { kind: 'staff', staffId: p.staffId };
    // roles that don't work the groups (e.g. dispatchers choosing where to announce) see the
    // groups, never what residents wrote
    const readsChat = worksGroups(p);
    const out: StaffGroupSummary[] = [];
    for (const g of groups) {
      const rate = rates.get(g.id)!;
      const last = readsChat ? await this.visible(g.id, viewer).orderBy('m.id', 'DESC').limit(1).getMany() : [];
      out.push({
        id: g.id,
        buildingId: g.buildingId,
        name: g.name,
        areaId: g.areaId,
        households: rate.households,
        joined: rate.joined,
        joinRate: rate.rate,
        members: await this.memberCount(g.id),
        staffMembers: staffByArea.get(g.areaId) ?? [],
        pending: readsChat ? await this.pendingQuery().andWhere('m.groupId = :g', { g: g.id }).getCount() : 0,
        lastMessage: (await this.present(last, viewer))[0] ?? null,
      });
    }
    return out;
  }

  /** Staff serving some areas (members of those areas' groups). */
  private async staffOfAreas(areaIds: number[]): Promise<Map<number, { staffId: number; name: string; role: string }[]>> {
    const out = new Map<number, { staffId: number; name: string; role: string }[]>();
    if (!areaIds.length) return out;
    for (const { areaId, staff: s } of await this.d.identity.staffOfAreas(areaIds)) {
      const list = out.get(areaId) ?? [];
      list.push({ staffId: s.id, name: s.name, role: roleLabel(s.roles) });
      out.set(areaId, list);
    }
    return out;
  }

  private async joinRates(groups: ButlerGroup[]): Promise<Map<number, { households: number; joined: number; rate: number }>> {
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

  async postStaff(p: StaffPrincipal, groupId: number, body: PostInput): Promise<GroupMessageView> {
    const group = await this.staffGroup(p, groupId);
    if (body.photo) await this.d.uploads.claim([body.photo], { kind: 'staff', id: p.staffId }, ['chat_photo'], 'photo');
    const now = this.d.clock();
    const { msg, answered } = await withTx(this.ds, (em) => this.insertStaffReply(em, p, group, body, now));
    await this.afterStaffReply(p, group, msg, answered);
    return (await this.present([msg], { kind: 'staff', staffId: p.staffId }))[0];
  }

  private async afterStaffReply(p: StaffPrincipal, group: ButlerGroup, msg: GroupMessage, answered: number[]): Promise<void> {
    await this.upsertReader(group.id, 'staff', p.staffId, (r) => ({ lastReadId: Math.max(r?.lastReadId ?? 0, msg.id) }));
    await this.fanOut(group, msg, null);
    for (const id of answered) this.publishArea(group.areaId, { type: 'inbox', groupId: group.id, messageId: id, change: 'answered', staffId: p.staffId });
  }

  /** A staff message; quoting a resident's question answers it (and what they asked before it). */
  private async insertStaffReply(em: EntityManager, p: StaffPrincipal, group: ButlerGroup, body: PostInput, now: Date): Promise<{ msg: GroupMessage; answered: number[] }> {
    let answered: number[] = [];
    if (body.quoteId) {
      const quoted = await forUpdate(em.createQueryBuilder(GroupMessage, 'm').where('m.id = :id AND m.groupId = :g', { id: body.quoteId, g: group.id })).getOne();
      if (!quoted) throw new AppError('MESSAGE_NOT_FOUND');
      if (quoted.senderKind === 'resident') {
        if (!quoted.answeredAt && quoted.claimedBy && quoted.claimedBy !== p.staffId && quoted.claimedAt && now.getTime() - quoted.claimedAt.getTime() < CLAIM_TTL_MS) {
          throw new AppError('CLAIMED_BY_OTHER', { staffName: await this.staffName(quoted.claimedBy) });
        }
        // the reply answers the quoted question and anything the same resident asked before it
        const open = await em
          .createQueryBuilder(GroupMessage, 'm')
          .where('m.groupId = :g AND m.senderKind = :k AND m.senderId = :s AND m.id <= :id AND m.answeredAt IS NULL', {
            g: group.id,
            k: 'resident',
            s: quoted.senderId,
            id: quoted.id,
          })
          .getMany();
        answered = open.map((m) => m.id);
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
    if (answered.length) {
      await em
        .createQueryBuilder()
        .update(GroupMessage)
        .set({ answeredAt: now, answeredBy: p.staffId })
        .where('id IN (:...ids) AND answeredAt IS NULL', { ids: answered })
        .execute();
      await em.createQueryBuilder().update(GroupMessage).set({ claimedBy: p.staffId, claimedAt: now }).where('id IN (:...ids) AND claimedBy IS NULL', { ids: answered }).execute();
    }
    return { msg, answered };
  }

  /**
   * Turn a resident's message into a repair ticket (booked by the repairs module for the resident's
   * account in this building, with the message's text and photo), then reply in the group quoting
   * the message with the ticket number and a link to 我的报修. One ticket per message.
   */
  async toRepair(p: StaffPrincipal, messageId: number, input: ToRepairInput) {
    const msg = await this.ds.getRepository(GroupMessage).findOne({ where: { id: messageId, senderKind: 'resident' } });
    if (!msg || msg.hiddenAt) throw new AppError('MESSAGE_NOT_FOUND');
    assertStaffArea(p, msg.areaId);
    const group = await this.staffGroup(p, msg.groupId);
    const now = this.d.clock();
    if (!msg.answeredAt && msg.claimedBy && msg.claimedBy !== p.staffId && msg.claimedAt && now.getTime() - msg.claimedAt.getTime() < CLAIM_TTL_MS) {
      throw new AppError('CLAIMED_BY_OTHER', { staffName: await this.staffName(msg.claimedBy) });
    }
    const memberships = await this.ds.getRepository(GroupMember).find({ where: { groupId: group.id, residentId: msg.senderId, leftAt: IsNull() }, order: { id: 'ASC' } });
    const accountId = input.accountId ?? memberships[0]?.accountId;
    if (!accountId || !memberships.some((m) => m.accountId === accountId)) throw new AppError('NOT_FOUND');
    // reserve the message (one conditional UPDATE decides a race between two agents)
    const reserved = await this.ds
      .createQueryBuilder()
      .update(GroupMessage)
      .set({ repairTicketId: 0 })
      .where('id = :id AND repairTicketId IS NULL', { id: msg.id })
      .execute();
    if (!reserved.affected) throw new AppError('MESSAGE_ALREADY_REPAIR');
    let ticket;
    try {
      const text = (input.description || msg.text || '').trim();
      ticket = await this.d.repairs.bookForResident(p, msg.senderId, accountId, {
        category: input.category,
        emergency: input.emergency,
        description: text.length >= 4 ? text : `管家群报修：${text || '见照片'}`,
        photos: msg.imageUrl ? [msg.imageUrl] : [],
      });
    } catch (err) {
      await this.ds.getRepository(GroupMessage).update({ id: msg.id, repairTicketId: 0 }, { repairTicketId: null });
      throw err;
    }
    await this.ds.getRepository(GroupMessage).update(msg.id, { repairTicketId: ticket.id });
    const replyText = `已为您登记报修，工单号 ${ticket.no}（${ticket.categoryLabel}${ticket.emergency ? '，紧急' : ''}）。维修人员会尽快与您联系，进度可在“我的报修”中查看。`;
    const { msg: reply, answered } = await withTx(this.ds, (em) =>
      this.insertStaffReply(em, p, group, { text: replyText, quoteId: msg.id, link: 'my_repairs' }, this.d.clock()),
    );
    await this.afterStaffReply(p, group, reply, answered);
    return {
      ticket: { id: ticket.id, no: ticket.no, status: ticket.status, categoryLabel: ticket.categoryLabel, emergency: ticket.emergency },
      reply: (await this.present([reply], { kind: 'staff', staffId: p.staffId }))[0],
    };
  }

  private async staffName(staffId: number): Promise<string> {
    return (await this.d.identity.staffByIds([staffId]))[0]?.name ?? '';
  }

  // ---- inbox --------------------------------------------------------------------------------

  private pendingQuery() {
    return this.ds
      .getRepository(GroupMessage)
      .createQueryBuilder('m')
      .where('m.senderKind = :rk', { rk: 'resident' })
      .andWhere('m.answeredAt IS NULL')
      .andWhere('m.hiddenAt IS NULL');
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
    else if (q.view === 'mine') qb.andWhere('(m.claimedBy = :me OR m.answeredBy = :me)', { me: p.staffId }).orderBy('m.id', 'DESC');
    else qb.orderBy('m.id', 'DESC');
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

  /**
   * First-responder ownership: claim a resident's question (and their other open questions in the
   * group). One conditional UPDATE decides a race; a stale claim (CLAIM_TTL_MS) may be taken over.
   */
  async claim(p: StaffPrincipal, messageId: number): Promise<InboxItem> {
    const msg = await this.ds.getRepository(GroupMessage).findOne({ where: { id: messageId, senderKind: 'resident' } });
    if (!msg || msg.hiddenAt) throw new AppError('MESSAGE_NOT_FOUND');
    assertStaffArea(p, msg.areaId);
    if (msg.answeredAt) throw new AppError('INVALID_TRANSITION');
    const now = this.d.clock();
    const res = await this.ds
      .createQueryBuilder()
      .update(GroupMessage)
      .set({ claimedBy: p.staffId, claimedAt: now })
      .where('id = :id AND answeredAt IS NULL', { id: messageId })
      .andWhere('(claimedBy IS NULL OR claimedBy = :me OR claimedAt < :stale)', { me: p.staffId, stale: new Date(now.getTime() - CLAIM_TTL_MS) })
      .execute();
    if (!res.affected) {
      const current = await this.ds.getRepository(GroupMessage).findOneByOrFail({ id: messageId });
      if (current.answeredAt) throw new AppError('INVALID_TRANSITION');
      throw new AppError('CLAIMED_BY_OTHER', { staffName: current.claimedBy ? await this.staffName(current.claimedBy) : '' });
    }
    await this.ds
      .createQueryBuilder()
      .update(GroupMessage)
      .set({ claimedBy: p.staffId, claimedAt: now })
      .where('groupId = :g AND senderKind = :k AND senderId = :s AND answeredAt IS NULL AND claimedBy IS NULL', { g: msg.groupId, k: 'resident', s: msg.senderId })
      .execute();
    this.publishArea(msg.areaId, { type: 'inbox', groupId: msg.groupId, messageId, change: 'claimed', staffId: p.staffId });
    return this.inboxItem(p, messageId);
  }

  async release(p: StaffPrincipal, messageId: number): Promise<void> {
    const msg = await this.ds.getRepository(GroupMessage).findOne({ where: { id: messageId, senderKind: 'resident' } });
    if (!msg) throw new AppError('MESSAGE_NOT_FOUND');
    assertStaffArea(p, msg.areaId);
    await this.ds
      .createQueryBuilder()
      .update(GroupMessage)
      .set({ claimedBy: null, claimedAt: null })
      .where('groupId = :g AND senderKind = :k AND senderId = :s AND answeredAt IS NULL AND claimedBy = :me', { g: msg.groupId, k: 'resident', s: msg.senderId, me: p.staffId })
      .execute();
    this.publishArea(msg.areaId, { type: 'inbox', groupId: msg.groupId, messageId, change: 'released', staffId: p.staffId });
  }

  private async inboxItem(p: StaffPrincipal, messageId: number): Promise<InboxItem> {
    const m = await this.ds.getRepository(GroupMessage).findOneByOrFail({ id: messageId });
    const [view] = await this.present([m], { kind: 'staff', staffId: p.staffId });
    const g = await this.ds.getRepository(ButlerGroup).findOneByOrFail({ id: m.groupId });
    return { message: view, groupName: g.name, areaId: m.areaId, waitingSeconds: m.answeredAt ? null : seconds(m.createdAt, this.d.clock()), claimedBy: view.claimedBy ?? null };
  }

  // ---- canned replies -----------------------------------------------------------------------

  async cannedList(q: { q?: string; category?: CannedCategory }) {
    const qb = this.ds.getRepository(CannedReply).createQueryBuilder('c');
    if (q.category) qb.andWhere('c.category = :c', { c: q.category });
    if (q.q) {
      const like = `%${q.q.replace(/[%_\\]/g, '')}%`;
      qb.andWhere('(c.title LIKE :q OR c.body LIKE :q)', { q: like });
    }
    const rows = await qb.orderBy('c.useCount', 'DESC').addOrderBy('c.id', 'ASC').getMany();
    return rows.map((c) => ({ id: c.id, category: c.category, title: c.title, body: c.body, useCount: c.useCount }));
  }

  async cannedCreate(input: { category: CannedCategory; title: string; body: string }) {
    const repo = this.ds.getRepository(CannedReply);
    const c = await repo.save(repo.create({ ...input, useCount: 0 }));
    return { id: c.id, category: c.category, title: c.title, body: c.body, useCount: 0 };
  }

  async cannedUpdate(id: number, input: { category: CannedCategory; title: string; body: string }) {
    const repo = this.ds.getRepository(CannedReply);
    const res = await repo.update(id, input);
    if (!res.affected) throw new AppError('NOT_FOUND');
    const c = await repo.findOneByOrFail({ id });
    return { id: c.id, category: c.category, title: c.title, body: c.body, useCount: c.useCount };
  }

  async cannedDelete(id: number): Promise<void> {
    const res = await this.ds.getRepository(CannedReply).delete(id);
    if (!res.affected) throw new AppError('NOT_FOUND');
  }

  /** A canned reply filled in for the resident of a message (or a group): {住户} {楼栋} {单元} {小区} {热线} {公司} {客服}. */
  async cannedRender(p: StaffPrincipal, id: number, target: { messageId?: number; groupId?: number }): Promise<{ text: string; missing: string[] }> {
    const c = await this.ds.getRepository(CannedReply).findOne({ where: { id } });
    if (!c) throw new AppError('NOT_FOUND');
    let groupId = target.groupId;
    let residentId: number | null = null;
    if (target.messageId) {
      const m = await this.ds.getRepository(GroupMessage).findOne({ where: { id: target.messageId } });
      if (!m) throw new AppError('MESSAGE_NOT_FOUND');
      groupId = m.groupId;
      if (m.senderKind === 'resident') residentId = m.senderId;
    }
    const group = await this.staffGroup(p, groupId!);
    const buildings = await this.d.accounts.listBuildings();
    const building = buildings.find((b) => b.id === group.buildingId);
    const company = await this.d.company.info();
    const who = residentId ? await this.residentLabel(group.id, residentId) : null;
    const text = renderCannedReply(c.body, {
      住户: who?.name,
      楼栋: building?.name,
      小区: building ? estateOf(building.address) : undefined,
      单元: who?.unit,
      热线: company.hotline,
      公司: company.name,
      客服: p.name,
    });
    await this.ds.getRepository(CannedReply).increment({ id }, 'useCount', 1);
    return { text, missing: [...text.matchAll(/\{([^{}\s]{1,10})\}/g)].map((m) => m[1]) };
  }

  // ---- notes --------------------------------------------------------------------------------

  /** Staff may keep notes on residents who are (or were) members of a group in their areas. */
  private async assertResidentInScope(p: StaffPrincipal, residentId: number): Promise<void> {
    const scope = staffAreaFilter(p);
    const qb = this.ds
      .getRepository(GroupMember)
      .createQueryBuilder('gm')
      .innerJoin(ButlerGroup, 'g', 'g.id = gm.groupId')
      .where('gm.residentId = :r', { r: residentId });
    if (scope !== 'all') {
      if (!scope.length) throw new AppError('NOT_FOUND');
      qb.andWhere('g.areaId IN (:...areas)', { areas: scope });
    }
    if (!(await qb.getCount())) throw new AppError('NOT_FOUND');
  }

  async addNote(p: StaffPrincipal, residentId: number, body: string) {
    await this.assertResidentInScope(p, residentId);
    const repo = this.ds.getRepository(StaffNote);
    const n = await repo.save(repo.create({ residentId, staffId: p.staffId, staffName: p.name, body, createdAt: this.d.clock() }));
    return { id: n.id, residentId, staffName: n.staffName, body: n.body, createdAt: n.createdAt.toISOString() };
  }

  async notes(p: StaffPrincipal, residentId: number) {
    await this.assertResidentInScope(p, residentId);
    const rows = await this.ds.getRepository(StaffNote).find({ where: { residentId }, order: { id: 'DESC' } });
    return rows.map((n) => ({ id: n.id, residentId, staffName: n.staffName, body: n.body, createdAt: n.createdAt.toISOString() }));
  }

  // ---- moderation ---------------------------------------------------------------------------

  /** Hide a message from residents; the row stays (who, when, why) for audit. */
  async hide(p: StaffPrincipal, messageId: number, reason: string): Promise<GroupMessageView> {
    const msg = await this.ds.getRepository(GroupMessage).findOne({ where: { id: messageId } });
    if (!msg) throw new AppError('MESSAGE_NOT_FOUND');
    assertStaffArea(p, msg.areaId);
    await this.ds.getRepository(GroupMessage).update({ id: messageId, hiddenAt: IsNull() }, { hiddenAt: this.d.clock(), hiddenBy: p.staffId, hideReason: reason });
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
    await this.ds.getRepository(GroupReader).update({ groupId: group.id, readerKind: 'resident', readerId: residentId }, { mutedUntil: null, mutedBy: null, muteReason: null });
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

  // ---- announcements ------------------------------------------------------------------------

  async announce(p: StaffPrincipal, body: AnnounceInput) {
    const now = this.d.clock();
    let groups: ButlerGroup[];
    if (body.scope === 'building') {
      const g = await this.groupByBuilding(body.targetId!);
      if (!g) throw new AppError('GROUP_NOT_FOUND');
      assertStaffArea(p, g.areaId);
      groups = [g];
    } else if (body.scope === 'area') {
      assertStaffArea(p, body.targetId!);
      groups = await this.ds.getRepository(ButlerGroup).find({ where: { areaId: body.targetId! }, order: { id: 'ASC' } });
    } else {
      if (staffAreaFilter(p) !== 'all') throw new AppError('FORBIDDEN');
      groups = await this.ds.getRepository(ButlerGroup).find({ order: { id: 'ASC' } });
    }
    const restore = body.expectedRestoreAt ? new Date(body.expectedRestoreAt) : null;
    if (restore && restore.getTime() <= now.getTime()) throw new AppError('RESTORE_TIME_INVALID', { fields: [{ field: 'expectedRestoreAt', message: '预计恢复时间须晚于当前时间' }] });
    const typeLabel = ANNOUNCEMENT_TYPE_LABEL[body.type];
    const text = `【${typeLabel}】${body.title}\n${body.body}${restore ? `\n预计恢复时间：${formatChinaTime(restore)}` : ''}`;

    const { announcement, messages } = await withTx(this.ds, async (em) => {
      const announcement = await em.save(
        em.create(Announcement, {
          scope: body.scope,
          targetId: body.scope === 'all' ? null : body.targetId!,
          type: body.type,
          title: body.title,
          body: body.body,
          expectedRestoreAt: restore,
          recipients: 0,
          createdBy: p.staffId,
          createdAt: now,
        }),
      );
      const messages: { group: ButlerGroup; msg: GroupMessage }[] = [];
      for (const g of groups) {
        const msg = await em.save(
          em.create(GroupMessage, {
            groupId: g.id,
            areaId: g.areaId,
            kind: 'announcement',
            senderKind: 'staff',
            senderId: p.staffId,
            senderLabel: p.name,
            senderRole: roleLabel(p.roles),
            text,
            imageUrl: null,
            link: null,
            quoteId: null,
            announcementId: announcement.id,
            pinned: body.pinned,
            ...UNHANDLED,
            createdAt: now,
          }),
        );
        messages.push({ group: g, msg });
      }
      // one subscription message per resident (however many flats they have); WeChat refuses
      // those who didn't allow it: recorded by the outbox as dead, never retried
      const members = groups.length
        ? await em.find(GroupMember, { where: { groupId: In(groups.map((g) => g.id)), leftAt: IsNull() }, order: { id: 'ASC' } })
        : [];
      const firstGroup = new Map<number, number>();
      for (const m of members) if (!firstGroup.has(m.residentId)) firstGroup.set(m.residentId, m.groupId);
      for (const [residentId, groupId] of firstGroup) {
        await this.d.notifications.toResident(
          em,
          residentId,
          'announcement',
          {
            thing1: body.title.slice(0, 20),
            thing2: typeLabel.slice(0, 20),
            time3: formatChinaTime(now),
            thing4: restore ? `预计${formatChinaTime(restore).slice(5)}恢复` : '详见管家群公告',
          },
          { page: `pages/group/index?groupId=${groupId}`, dedupeKey: `ann:${announcement.id}:r:${residentId}`, now },
        );
      }
      await em.update(Announcement, announcement.id, { recipients: firstGroup.size });
      announcement.recipients = firstGroup.size;
      return { announcement, messages };
    });
    for (const { group, msg } of messages) await this.fanOut(group, msg, null);
    return this.announcementView(announcement);
  }

  private async announcementView(a: Announcement) {
    const by = await outboxStatusCounts(this.ds, `ann:${a.id}:r:`);
    return {
      id: a.id,
      scope: a.scope,
      targetId: a.targetId,
      type: a.type,
      typeLabel: ANNOUNCEMENT_TYPE_LABEL[a.type],
      title: a.title,
      body: a.body,
      expectedRestoreAt: a.expectedRestoreAt?.toISOString() ?? null,
      createdAt: a.createdAt.toISOString(),
      delivery: { recipients: a.recipients, sent: by.done ?? 0, pending: by.pending ?? 0, refused: by.dead ?? 0 },
    };
  }

  async announcements(p: StaffPrincipal, page: number, pageSize: number) {
    // filtered in SQL before paging: an announcement's area is its target area, or the area of
    // its target building's group; announcements to everyone are seen by everyone
    const qb = this.ds.getRepository(Announcement).createQueryBuilder('a');
    const buildingArea = qb.subQuery().select('g.areaId').from(ButlerGroup, 'g').where('g.buildingId = a.targetId').getQuery();
    scopeToAreas(qb, `(CASE WHEN a.scope = 'area' THEN a.targetId ELSE ${buildingArea} END)`, p, { orWhere: "a.scope = 'all'" });
    const [rows, total] = await qb.orderBy('a.id', 'DESC').skip((page - 1) * pageSize).take(pageSize).getManyAndCount();
    return { items: await Promise.all(rows.map((a) => this.announcementView(a))), total, page, pageSize };
  }

  // ---- metrics ------------------------------------------------------------------------------

  /** First-response time (median, p90) per agent and per area, unanswered count, join rates. */
  async metrics(p: StaffPrincipal, range: { from?: string; to?: string }): Promise<GroupMetrics> {
    const scope = staffAreaFilter(p);
    const qb = this.ds.getRepository(GroupMessage).createQueryBuilder('m').where('m.senderKind = :rk', { rk: 'resident' }).andWhere('m.answeredAt IS NOT NULL');
    if (scope !== 'all') {
      if (!scope.length) return { perAgent: [], perArea: [], unanswered: 0, joinRate: [] };
      qb.andWhere('m.areaId IN (:...areas)', { areas: scope });
    }
    if (range.from) qb.andWhere('m.createdAt >= :from', { from: new Date(range.from) });
    if (range.to) qb.andWhere('m.createdAt < :to', { to: new Date(range.to) });
    const answered = await qb.getMany();
    const byAgent = new Map<number, number[]>();
    const byArea = new Map<number, number[]>();
    for (const m of answered) {
      const s = seconds(m.createdAt, m.answeredAt!);
      if (m.answeredBy) byAgent.set(m.answeredBy, [...(byAgent.get(m.answeredBy) ?? []), s]);
      byArea.set(m.areaId, [...(byArea.get(m.areaId) ?? []), s]);
    }
    const names = new Map((await this.d.identity.staffByIds([...byAgent.keys()])).map((s) => [s.id, s.name]));
    const pending = this.pendingQuery();
    scopeToAreas(pending, 'm.areaId', p);
    const groups = await this.scopedGroups(p).getMany();
    const rates = await this.joinRates(groups);
    return {
      perAgent: [...byAgent].map(([staffId, s]) => ({ staffId, name: names.get(staffId) ?? '', ...responseStats(s) })).sort((a, b) => a.staffId - b.staffId),
      perArea: [...byArea].map(([areaId, s]) => ({ areaId, ...responseStats(s) })).sort((a, b) => a.areaId - b.areaId),
      unanswered: await pending.getCount(),
      joinRate: groups.map((g) => ({ groupId: g.id, buildingId: g.buildingId, name: g.name, ...rates.get(g.id)! })),
    };
  }

  // ---- presentation and fan-out -------------------------------------------------------------

  private async present(msgs: GroupMessage[], viewer: Viewer): Promise<GroupMessageView[]> {
    if (!msgs.length) return [];
    const quoteIds = [...new Set(msgs.map((m) => m.quoteId).filter((x): x is number => !!x))];
    const quotes = new Map((quoteIds.length ? await this.ds.getRepository(GroupMessage).find({ where: { id: In(quoteIds) } }) : []).map((q) => [q.id, q]));
    const annIds = [...new Set(msgs.map((m) => m.announcementId).filter((x): x is number => !!x))];
    const anns = new Map((annIds.length ? await this.ds.getRepository(Announcement).find({ where: { id: In(annIds) } }) : []).map((a) => [a.id, a]));
    const staff = viewer.kind === 'staff';
    let claimers = new Map<number, string>();
    let reportCounts = new Map<number, number>();
    if (staff) {
      const ids = [...new Set(msgs.map((m) => m.claimedBy).filter((x): x is number => !!x))];
      claimers = new Map((await this.d.identity.staffByIds(ids)).map((s) => [s.id, s.name]));
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
        sender: { kind: m.senderKind, label: m.senderLabel, role: m.senderRole, mine, ...(staff && m.senderKind === 'resident' ? { residentId: m.senderId } : {}) },
        text: m.text,
        imageUrl: m.imageUrl ? this.d.uploads.link(m.imageUrl) : null,
        link: m.link && m.link in HELP_LINKS ? { ...HELP_LINKS[m.link as keyof typeof HELP_LINKS] } : null,
        quote: q ? { id: q.id, label: q.senderLabel, text: q.hiddenAt && !staff ? '该消息已被隐藏' : q.text } : null,
        announcement: a
          ? { id: a.id, type: a.type, typeLabel: ANNOUNCEMENT_TYPE_LABEL[a.type], title: a.title, expectedRestoreAt: a.expectedRestoreAt?.toISOString() ?? null }
          : null,
        createdAt: m.createdAt.toISOString(),
      };
      if (staff || mine) view.moderation = m.moderation ?? null;
      if (staff) {
        view.hidden = !!m.hiddenAt;
        view.hideReason = m.hideReason;
        view.answeredAt = m.answeredAt?.toISOString() ?? null;
        view.claimedBy = m.claimedBy ? { staffId: m.claimedBy, name: claimers.get(m.claimedBy) ?? '' } : null;
        view.reports = reportCounts.get(m.id) ?? 0;
        if (m.senderKind === 'resident') view.repairTicketId = m.repairTicketId || null;
      }
      return view;
    });
  }

  private publishArea(areaId: number, event: Record<string, unknown>): void {
    this.d.realtime.publish(`area:${areaId}`, event);
    this.d.realtime.publish('area:all', event);
  }

  /** Deliver a new message to residents online in the group and to staff of the area. */
  private async fanOut(group: ButlerGroup, msg: GroupMessage, inbox: 'new' | null, audience: 'all' | 'staff' = 'all'): Promise<void> {
    if (audience === 'all') {
      const [residentView] = await this.present([msg], { kind: 'resident', residentId: 0 });
      this.d.realtime.publish(`group:${group.id}`, { type: 'message', message: residentView });
    }
    const [staffView] = await this.present([msg], { kind: 'staff', staffId: 0 });
    this.publishArea(group.areaId, { type: 'message', groupId: group.id, message: staffView });
    if (inbox) this.publishArea(group.areaId, { type: 'inbox', groupId: group.id, messageId: msg.id, change: inbox });
  }
}

/** The role shown next to a staff member's name: the most resident-facing of their roles. */
export function roleLabel(roles: StaffRole[]): string {
  const order: StaffRole[] = ['butler', 'agent', 'dispatcher', 'station', 'worker', 'finance', 'admin'];
  const r = order.find((x) => roles.includes(x)) ?? roles[0];
  return r ? STAFF_ROLE_LABEL[r] : '';
}
