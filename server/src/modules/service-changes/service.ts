import { In } from 'typeorm';
import {
  documentLabel,
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
import { sheet, xlsxBuffer } from '../../platform/xlsx';
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

  async listForStaff(staff: StaffPrincipal, q: StaffFilter & { page: number; pageSize: number }): Promise<Page<ServiceChangeView>> {
    const [rows, total] = await this.staffQuery(staff, q)
      .skip((q.page - 1) * q.pageSize)
      .take(q.pageSize)
      .getManyAndCount();
    return { items: await Promise.all((await this.caughtUp(rows)).map((r) => this.view(r, { staff }))), total, page: q.page, pageSize: q.pageSize };
  }

  /** The staff list as XLSX (same filters, every page, at most 5000 rows). */
  async exportForStaff(staff: StaffPrincipal, q: StaffFilter): Promise<Buffer> {
    const rows = await this.staffQuery(staff, q).take(5000).getMany();
    const accounts = await this.o.accounts.accountsByIds(rows.map((r) => r.accountId));
    const byId = new Map(accounts.map((a) => [a.id, a]));
    const ctx = await this.o.accounts.addressContext(accounts);
    const orders = rows.length ? await this.ds.getRepository(ValveWorkOrder).find({ where: { applicationId: In(rows.map((r) => r.id)) } }) : [];
    const orderOf = new Map(orders.map((o) => [o.applicationId, o]));
    type Row = (typeof rows)[number];
    const accountOf = (r: Row) => byId.get(r.accountId);
    return xlsxBuffer([
      sheet<Row>({
        name: '报停复供',
        rows,
        columns: [
          { header: '申请编号', width: 10, value: (r) => r.id, format: 'int' },
          { header: '类型', width: 8, value: (r) => SERVICE_CHANGE_KIND_LABEL[r.kind] },
          { header: '采暖季', width: 12, value: (r) => r.seasonCode },
          { header: '户号', width: 14, value: (r) => accountOf(r)?.accountNo, format: 'text' },
          { header: '片区', width: 12, value: (r) => ctx.areas.get(accountOf(r)?.areaId ?? 0)?.name },
          { header: '楼栋', width: 10, value: (r) => ctx.buildings.get(accountOf(r)?.buildingId ?? 0)?.name },
          { header: '地址', width: 44, value: (r) => (accountOf(r) ? ctx.address(accountOf(r)!) : null) },
          { header: '状态', width: 14, value: (r) => SERVICE_CHANGE_STATE_LABEL[r.state] },
          { header: '逾期受理原因', width: 24, value: (r) => r.lateReason },
          {
            header: '驳回问题',
            width: 40,
            value: (r) =>
              r.state === 'rejected' ? r.problems.map((p) => `${p.document ? `${documentLabel(p.document)}：` : ''}${p.message}`).join('；') : null,
          },
          {
            header: '阀门工单',
            width: 14,
            value: (r) => (orderOf.get(r.id) ? `${VALVE_ACTION_LABEL[orderOf.get(r.id)!.action]} ${VALVE_ORDER_STATE_LABEL[orderOf.get(r.id)!.state]}` : null),
          },
          { header: '施工完成时间', width: 20, value: (r) => orderOf.get(r.id)?.doneAt, format: 'chinaTime' },
          { header: '应退差额（元）', width: 14, value: (r) => r.refundDueFen || null, format: 'yuan' },
          { header: '提交时间', width: 20, value: (r) => r.createdAt, format: 'chinaTime' },
        ],
      }),
    ]);
  }

  /** The staff dashboard: applications waiting for review and open valve work orders in the staff member's areas. */
  async openCounts(p: StaffPrincipal): Promise<{ pendingReview: number; valveOrdersOpen: number }> {
    const sc = this.ds
      .getRepository(ServiceChange)
      .createQueryBuilder('c')
      .where('c.state IN (:...s)', { s: ['submitted', 'under_review'] });
    const vo = this.ds.getRepository(ValveWorkOrder).createQueryBuilder('v').where('v.state = :s', { s: 'open' });
    return { pendingReview: await scopeToAreas(sc, 'c.areaId', p).getCount(), valveOrdersOpen: await scopeToAreas(vo, 'v.areaId', p).getCount() };
  }
}
