import { MEASUREMENT_PROTOCOL_TEXT, renderCannedReply, type CannedCategory } from '@heat-butler/shared';
import { AppError } from '../../platform/errors';
import { staffAreaFilter, type StaffPrincipal } from '../../platform/auth';
import { ButlerGroup, CannedReply, GroupMember, GroupMessage, StaffNote } from './entities';
import { estateOf, GroupsCore } from './core';

/** The company's starting library of standard replies (话术); admins edit it afterwards. */
export const DEFAULT_CANNED: { category: CannedCategory; title: string; body: string }[] = [
  {
    category: 'room_temp',
    title: '室温不达标',
    body: `您好，{住户}，{小区}{楼栋}的室温问题已收到。请在早6—8点或晚4—8点${MEASUREMENT_PROTOCOL_TEXT}；低于18℃我们将安排上门检测。供热热线：{热线}`,
  },
  {
    category: 'payment',
    title: '缴费方式',
    body: '您好，{住户}，您可以在本小程序“账单”页直接微信缴费，缴费成功后可在“缴费记录”查看凭证。如有疑问请拨打{热线}',
  },
  { category: 'invoice', title: '开具发票', body: '您好，缴费成功后可在“缴费记录”中申请电子发票，填写抬头和税号后1个工作日内开具。如需帮助请拨打{热线}' },
  {
    category: 'stop_resume',
    title: '报停复供',
    body: '您好，{住户}，报停/复供请在每年9月20日前通过小程序“服务”页提交申请，报停期间按面积收取基础热费。详询{热线}',
  },
  { category: 'repair', title: '报修受理', body: '您好，{小区}{楼栋}{单元}的报修已收到，维修师傅将尽快与您联系；如遇跑水等紧急情况请立即拨打{热线}' },
  { category: 'other', title: '问候', body: '您好，我是{公司}的{客服}，很高兴为您服务，请问有什么可以帮您？' },
];

/** 标准话术 (the library and its rendering for a resident) and private staff notes on residents. */
export class GroupCanned extends GroupsCore {
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
}
