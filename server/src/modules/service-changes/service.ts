import { In } from 'typeorm';
import {
  documentLabel,
  fenToYuanString,
  formatChinaTime,
  SERVICE_CHANGE_KIND_LABEL,
  SERVICE_CHANGE_STATE_LABEL,
  VALVE_ACTION_LABEL,
  VALVE_ORDER_STATE_LABEL,
  type Page,
  type ServiceChangeKind,
  type ServiceChangeState,
  type ServiceChangeView,
} from '@heat-butler/shared';
import { withTx } from '../../platform/db/data-source';
import type { StaffPrincipal } from '../../platform/auth';
import { scopeToAreas } from '../../platform/scope';
import { ServiceChange, ValveWorkOrder } from './entities';
import { ServiceChangeWorkflow } from './workflow';

export type { ServiceChangesOptions } from './base';
export type { SubmitInput } from './workflow';

type StaffFilter = { state?: ServiceChangeState; season?: string; kind?: ServiceChangeKind; buildingId?: number; areaId?: number };

/**
 * 报停/复供: applications checked against the company's rules (deadline, arrears, repeat limits,
 * documents), reviewed by agents of the area, re-pricing the season's bill, and carried out by a
 * valve work order that the substation crew completes. One status for resident, counter and crew.
 *
 * The parts: base.ts (access, state machine, rules, views), valves.ts (valve work orders, a paid
 * resume moving on), workflow.ts (submit … approve), this file (lists, export, counts). It reacts
 * to payment.credited and bill.settled_at_counter after commit (reactions.ts).
 */
export class ServiceChangesService extends ServiceChangeWorkflow {
  // ---- reading ----------------------------------------------------------------------------------------

  async listForResident(residentId: number): Promise<{ items: ServiceChangeView[] }> {
    const bound = await this.o.accounts.listBound(residentId);
    if (!bound.length) return { items: [] };
    const rows = await this.ds.getRepository(ServiceChange).find({ where: { accountId: In(bound.map((b) => b.accountId)) }, order: { id: 'DESC' } });
    return { items: await Promise.all((await this.caughtUp(rows)).map((r) => this.view(r, { residentId }))) };
  }

  async getForResident(residentId: number, id: number): Promise<ServiceChangeView> {
    return this.view(await this.catchUp(await this.forResident(residentId, id)), { residentId });
  }

  async getForStaff(staff: StaffPrincipal, id: number): Promise<ServiceChangeView> {
    return this.view(await this.catchUp(await this.forStaff(staff, id)), { staff });
  }

  /**
   * A resume whose bill is paid but whose application hasn't moved on yet (the payment.credited
   * reaction runs after commit, through the outbox; or the bill was settled some other way, e.g.
   * an import): the application moves on when it is looked at.
   */
  protected async catchUp(app: ServiceChange): Promise<ServiceChange> {
    if (app.state !== 'awaiting_payment' || !app.billId) return app;
    const bill = await this.o.billing.bill(app.billId);
    if (bill?.status !== 'paid') return app;
    await withTx(this.ds, (em) => this.onBillsPaid(em, [bill.id]));
    return this.ds.getRepository(ServiceChange).findOneByOrFail({ id: app.id });
  }

  /** The staff list's filters, in the staff member's areas, oldest first. */
  private staffQuery(staff: StaffPrincipal, q: StaffFilter) {
    const qb = this.ds.getRepository(ServiceChange).createQueryBuilder('c').orderBy('c.id', 'ASC');
    scopeToAreas(qb, 'c.areaId', staff);
    if (q.areaId) qb.andWhere('c.areaId = :areaId', { areaId: q.areaId });
    if (q.buildingId) qb.andWhere('c.buildingId = :buildingId', { buildingId: q.buildingId });
    if (q.state) qb.andWhere('c.state = :state', { state: q.state });
    if (q.season) qb.andWhere('c.seasonCode = :season', { season: q.season });
    if (q.kind) qb.andWhere('c.kind = :kind', { kind: q.kind });
    return qb;
  }

  /** catchUp for a list, one at a time (each may open a transaction) */
  private async caughtUp(rows: ServiceChange[]): Promise<ServiceChange[]> {
    const out: ServiceChange[] = [];
    for (const r of rows) out.push(await this.catchUp(r));
    return out;
  }

  async listForStaff(
    staff: StaffPrincipal,
    q: StaffFilter & { page: number; pageSize: number },
  ): Promise<Page<ServiceChangeView>> {
    const [rows, total] = await this.staffQuery(staff, q).skip((q.page - 1) * q.pageSize).take(q.pageSize).getManyAndCount();
    return { items: await Promise.all((await this.caughtUp(rows)).map((r) => this.view(r, { staff }))), total, page: q.page, pageSize: q.pageSize };
  }

  /** The staff list as XLSX (same filters, every page, at most 5000 rows). */
  async exportForStaff(
    staff: StaffPrincipal,
    q: StaffFilter,
  ): Promise<Buffer> {
    const rows = await this.staffQuery(staff, q).take(5000).getMany();
    const accounts = await this.o.accounts.accountsByIds(rows.map((r) => r.accountId));
    const byId = new Map(accounts.map((a) => [a.id, a]));
    const ctx = await this.o.accounts.addressContext(accounts);
    const orders = rows.length ? await this.ds.getRepository(ValveWorkOrder).find({ where: { applicationId: In(rows.map((r) => r.id)) } }) : [];
    const orderOf = new Map(orders.map((o) => [o.applicationId, o]));
    const ExcelJS = (await import('exceljs')).default;
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('报停复供');
    ws.columns = [
      { header: '申请编号', key: 'id', width: 10 },
      { header: '类型', key: 'kind', width: 8 },
      { header: '采暖季', key: 'season', width: 12 },
      { header: '户号', key: 'accountNo', width: 14 },
      { header: '片区', key: 'area', width: 12 },
      { header: '楼栋', key: 'building', width: 10 },
      { header: '地址', key: 'address', width: 44 },
      { header: '状态', key: 'state', width: 14 },
      { header: '逾期受理原因', key: 'lateReason', width: 24 },
      { header: '驳回问题', key: 'problems', width: 40 },
      { header: '阀门工单', key: 'order', width: 14 },
      { header: '施工完成时间', key: 'doneAt', width: 20 },
      { header: '应退差额（元）', key: 'refund', width: 14 },
      { header: '提交时间', key: 'createdAt', width: 20 },
    ];
    for (const r of rows) {
      const a = byId.get(r.accountId);
      const o = orderOf.get(r.id);
      ws.addRow({
        id: r.id,
        kind: SERVICE_CHANGE_KIND_LABEL[r.kind],
        season: r.seasonCode,
        accountNo: a?.accountNo ?? '',
        area: a ? (ctx.areas.get(a.areaId)?.name ?? '') : '',
        building: a ? (ctx.buildings.get(a.buildingId)?.name ?? '') : '',
        address: a ? ctx.address(a) : '',
        state: SERVICE_CHANGE_STATE_LABEL[r.state],
        lateReason: r.lateReason ?? '',
        problems: r.state === 'rejected' ? r.problems.map((p) => `${p.document ? `${documentLabel(p.document)}：` : ''}${p.message}`).join('；') : '',
        order: o ? `${VALVE_ACTION_LABEL[o.action]} ${VALVE_ORDER_STATE_LABEL[o.state]}` : '',
        doneAt: o?.doneAt ? formatChinaTime(o.doneAt, true) : '',
        refund: r.refundDueFen ? Number(fenToYuanString(r.refundDueFen)) : '',
        createdAt: formatChinaTime(r.createdAt, true),
      });
    }
    return Buffer.from(await wb.xlsx.writeBuffer());
  }

  /** The staff dashboard: applications waiting for review and open valve work orders in the staff member's areas. */
  async openCounts(p: StaffPrincipal): Promise<{ pendingReview: number; valveOrdersOpen: number }> {
    const sc = this.ds.getRepository(ServiceChange).createQueryBuilder('c').where('c.state IN (:...s)', { s: ['submitted', 'under_review'] });
    const vo = this.ds.getRepository(ValveWorkOrder).createQueryBuilder('v').where('v.state = :s', { s: 'open' });
    return { pendingReview: await scopeToAreas(sc, 'c.areaId', p).getCount(), valveOrdersOpen: await scopeToAreas(vo, 'v.areaId', p).getCount() };
  }
}
