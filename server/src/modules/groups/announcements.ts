import { In, IsNull } from 'typeorm';
import { ANNOUNCEMENT_TYPE_LABEL, formatChinaTime, type AnnouncementBody } from '@heat-butler/shared';
import type { z } from 'zod';
import { AppError } from '../../platform/errors';
import { withTx } from '../../platform/db/data-source';
import { assertStaffArea, staffAreaFilter, type StaffPrincipal } from '../../platform/auth';
import { scopeToAreas } from '../../platform/scope';
import { outboxStatusCounts } from '../../platform/outbox';
import { Announcement, ButlerGroup, GroupMember, GroupMessage } from './entities';
import { GroupsCore, roleLabel, UNHANDLED } from './core';

type AnnounceInput = z.output<typeof AnnouncementBody>;

/** 公告: posted into each target group as a message and pushed as a subscription message. */
export class GroupAnnouncements extends GroupsCore {
  /** The groups an announcement goes to (the caller's areas checked) and its restore time (checked). */
  private async targets(p: StaffPrincipal, body: AnnounceInput, now: Date): Promise<{ groups: ButlerGroup[]; restore: Date | null }> {
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
    if (restore && restore.getTime() <= now.getTime())
      throw new AppError('RESTORE_TIME_INVALID', { fields: [{ field: 'expectedRestoreAt', message: '预计恢复时间须晚于当前时间' }] });
    return { groups, restore };
  }

  /** What announcing would reach, nothing posted: the confirmation says how many residents get the push. */
  async preview(p: StaffPrincipal, body: AnnounceInput) {
    const { groups } = await this.targets(p, body, this.d.clock());
    const row = groups.length
      ? await this.ds
          .getRepository(GroupMember)
          .createQueryBuilder('gm')
          .select('COUNT(DISTINCT gm.residentId)', 'n')
          .where('gm.groupId IN (:...ids) AND gm.leftAt IS NULL', { ids: groups.map((g) => g.id) })
          .getRawOne()
      : null;
    return { groups: groups.length, recipients: Number(row?.n ?? 0), groupNames: groups.slice(0, 10).map((g) => g.name) };
  }

  async announce(p: StaffPrincipal, body: AnnounceInput) {
    const now = this.d.clock();
    const { groups, restore } = await this.targets(p, body, now);
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
    const [rows, total] = await qb
      .orderBy('a.id', 'DESC')
      .skip((page - 1) * pageSize)
      .take(pageSize)
      .getManyAndCount();
    return { items: await Promise.all(rows.map((a) => this.announcementView(a))), total, page, pageSize };
  }
}
