import { In, type EntityManager } from 'typeorm';
import type { GroupSummary, StaffGroupSummary } from '@heat-butler/shared';
import { isUniqueViolation, withTx } from '../../platform/db/data-source';
import { staffAreaFilter, type AuthPrincipal, type ResidentPrincipal, type StaffPrincipal } from '../../platform/auth';
import type { BindingChange, Building } from '../accounts';
import { ButlerGroup, CannedReply, GroupMember } from './entities';
import { estateOf, GroupsCore, roleLabel, worksGroups, type Viewer } from './core';
import { DEFAULT_CANNED } from './canned';

/** One group per building, membership following account bindings, and the group lists. */
export class GroupMembership extends GroupsCore {
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

  /**
   * What a socket receives, by the same rules as the HTTP routes: residents their groups' messages;
   * staff who work the groups (GROUP_STAFF) the messages and inbox changes of their areas;
   * every other role nothing (no chat, no resident ids).
   */
  async topicsFor(p: AuthPrincipal): Promise<string[]> {
    if (p.kind === 'resident') return (await this.residentGroupIds(p.residentId)).map((id) => `group:${id}`);
    if (!worksGroups(p)) return [];
    const scope = staffAreaFilter(p);
    return scope === 'all' ? ['area:all'] : scope.map((a) => `area:${a}`);
  }

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
}
