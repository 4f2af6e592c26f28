import { type DataSource, type EntityManager } from 'typeorm';
import {
  BINDING_RELATION_LABEL,
  chinaDate,
  documentLabel,
  formatChinaTime,
  formatFen,
  quoteAmounts,
  seasonCharge,
  seasonLabel,
  SERVICE_CHANGE_CANCELLABLE,
  SERVICE_CHANGE_KIND_LABEL,
  SERVICE_CHANGE_STATE_LABEL,
  SERVICE_CHANGE_TRANSITIONS,
  VALVE_ACTION_LABEL,
  VALVE_ORDER_STATE_LABEL,
  type ServiceChangeKind,
  type ServiceChangeState,
  type ServiceChangeView,
  type ValveOrderView,
} from '@heat-butler/shared';
import { AppError } from '../../platform/errors';
import { forUpdate } from '../../platform/db/data-source';
import { applyTransition, timeline, type Actor } from '../../platform/state';
import { assertStaffArea, type StaffPrincipal } from '../../platform/auth';
import type { Account, AccountsService } from '../accounts';
import type { BillingService, Season } from '../billing';
import type { CompanyService } from '../company';
import type { NotificationsService } from '../notifications';
import type { PaymentsService } from '../payments';
import type { UploadsService } from '../../platform/uploads/service';
import type { ModerationService } from '../moderation';
import { ServiceChange, ValveWorkOrder } from './entities';

export const TYPE = 'service_change';
export const ORDER_TYPE = 'valve_work_order';

/** Short status words for the subscription message (WeChat phrase: ≤5 characters). */
const PHRASE: Record<ServiceChangeState, string> = {
  submitted: '已提交',
  under_review: '审核中',
  rejected: '需补正',
  approved: '已通过',
  awaiting_payment: '待缴费',
  work_order: '施工中',
  done: '已完成',
  cancelled: '已撤销',
};

export interface ServiceChangesOptions {
  /** content security of the resident's note */
  moderation: ModerationService;
  ds: DataSource;
  clock: () => Date;
  company: CompanyService;
  accounts: AccountsService;
  billing: BillingService;
  notifications: NotificationsService;
  uploads: UploadsService;
  /** the refund of what a stop makes overpaid (WeChat Pay): injected, never optional */
  payments: PaymentsService;
}

/** Who is looking at an application: decides whether the ID documents and cancel are offered. */
export type Viewer = { residentId: number } | { staff: StaffPrincipal };

/** Staff roles whose work needs the ID documents (they review applications); not workers, finance, crews. */
const DOCUMENT_REVIEWERS = ['agent', 'admin'] as const;

/**
 * What every part of the service-changes module shares: access checks, locking, the state
 * machine, notifications, the fee and eligibility rules, and the views.
 */
export abstract class ServiceChangeBase {
  constructor(protected o: ServiceChangesOptions) {}

  protected get ds() {
    return this.o.ds;
  }

  // ---- checks shared by the preview and the submission ------------------------------------------

  protected async context(accountId: number, seasonCode: string) {
    const account = await this.o.accounts.account(accountId);
    if (!account) throw new AppError('ACCOUNT_NOT_FOUND');
    const season = await this.o.billing.seasonByCode(seasonCode);
    const rules = await this.o.company.rules();
    return { account, season, rules };
  }

  protected async priorChanges(em: EntityManager, accountId: number, seasonId: number) {
    return em.find(ServiceChange, { where: { accountId, seasonId } });
  }

  protected eligibility(kind: ServiceChangeKind, account: Account): string | null {
    if (kind === 'stop' && account.status !== 'active') return '该户号当前不是正常供热状态，无需报停';
    if (kind === 'resume' && account.status !== 'stopped' && account.status !== 'sealed') return '该户号当前未报停，无需复供';
    return null;
  }

  protected async fee(kind: ServiceChangeKind, account: Account, season: Season) {
    const bill = await this.o.billing.billFor(account.id, season.id);
    const price = bill ? { tariffs: { residential: bill.unitPriceFen, commercial: bill.unitPriceFen }, baseFeeRatioBp: season.baseFeeRatioBp } : season;
    const area = bill?.heatedArea ?? account.heatedArea;
    const use = bill ? 'residential' : account.use;
    const full = seasonCharge({ heatedArea: area, use, kind: 'full', season: price }).chargeFen;
    const base = seasonCharge({ heatedArea: area, use, kind: 'base', season: price }).chargeFen;
    const newChargeFen = kind === 'stop' ? base : full;
    const paidFen = bill?.paidFen ?? 0;
    const today = chinaDate(this.o.clock());
    const q = quoteAmounts({ chargeFen: newChargeFen, paidFen }, season, today);
    let refundDueFen = 0;
    if (kind === 'stop' && paidFen > 0) {
      const atPaid = quoteAmounts({ chargeFen: base, paidFen: 0 }, season, bill?.paidAt ? chinaDate(bill.paidAt) : today);
      refundDueFen = Math.max(0, paidFen - atPaid.dueFen);
    }
    const dueFen = refundDueFen > 0 ? 0 : q.dueFen;
    const ratio = season.baseFeeRatioBp / 100;
    const text =
      kind === 'stop'
        ? `报停后本采暖季按${ratio}%收取基础热费${formatFen(base)}（全额${formatFen(full)}）` +
          (refundDueFen > 0 ? `；您已缴${formatFen(paidFen)}，差额${formatFen(refundDueFen)}将退回` : dueFen > 0 ? `，应缴${formatFen(dueFen)}` : '')
        : `复供须缴纳全额热费${formatFen(full)}` +
          (paidFen > 0 ? `，已缴${formatFen(paidFen)}，需补缴${formatFen(dueFen)}` : `，应缴${formatFen(dueFen)}`) +
          '，缴费后安排开阀';
    return { fullFen: full, baseFen: base, newChargeFen, paidFen, dueFen, refundDueFen, text };
  }

  protected async arrears(accountId: number, seasonCode: string) {
    const bills = await this.o.billing.unpaidBefore(accountId, seasonCode);
    return { totalFen: bills.reduce((s, b) => s + b.dueFen, 0), bills: bills.map((b) => ({ billId: b.id, season: b.season, dueFen: b.dueFen })) };
  }

  // ---- helpers -------------------------------------------------------------------------------------------

  protected async assertAccountAccess(who: { residentId: number } | { staff: StaffPrincipal }, accountId: number): Promise<void> {
    if ('residentId' in who) {
      await this.o.accounts.assertBound(who.residentId, accountId).catch(() => {
        throw new AppError('ACCOUNT_NOT_FOUND');
      });
      return;
    }
    const account = await this.o.accounts.account(accountId);
    if (!account) throw new AppError('ACCOUNT_NOT_FOUND');
    try {
      assertStaffArea(who.staff, account.areaId);
    } catch {
      throw new AppError('ACCOUNT_NOT_FOUND');
    }
  }

  /** The application, if its account is bound to the resident (NOT_FOUND otherwise: no probing). */
  protected async forResident(residentId: number, id: number): Promise<ServiceChange> {
    const app = await this.ds.getRepository(ServiceChange).findOne({ where: { id } });
    if (!app) throw new AppError('SERVICE_CHANGE_NOT_FOUND');
    await this.o.accounts.assertBound(residentId, app.accountId).catch(() => {
      throw new AppError('SERVICE_CHANGE_NOT_FOUND');
    });
    return app;
  }

  /**
   * Only the resident who filed an application may fix or cancel it; another resident bound to the
   * same account (e.g. by the owner's name) sees its status, not its documents, and can't change it.
   */
  protected async forApplicant(residentId: number, id: number): Promise<ServiceChange> {
    const app = await this.forResident(residentId, id);
    if (app.residentId !== residentId) throw new AppError('SERVICE_CHANGE_NOT_APPLICANT');
    return app;
  }

  protected async forStaff(staff: StaffPrincipal, id: number): Promise<ServiceChange> {
    const app = await this.ds.getRepository(ServiceChange).findOne({ where: { id } });
    if (!app) throw new AppError('SERVICE_CHANGE_NOT_FOUND');
    try {
      assertStaffArea(staff, app.areaId);
    } catch {
      throw new AppError('SERVICE_CHANGE_NOT_FOUND');
    }
    return app;
  }

  protected async lock(em: EntityManager, id: number): Promise<ServiceChange> {
    const app = await forUpdate(em.createQueryBuilder(ServiceChange, 'c').where('c.id = :id', { id })).getOne();
    if (!app) throw new AppError('SERVICE_CHANGE_NOT_FOUND');
    return app;
  }

  protected async accountOf(em: EntityManager, app: ServiceChange): Promise<Account> {
    return this.o.accounts.accountOrFail(app.accountId, em);
  }

  protected async move(em: EntityManager, app: ServiceChange, to: ServiceChangeState, actor: Actor, reason?: string | null, data?: Record<string, unknown>) {
    await applyTransition(em, SERVICE_CHANGE_TRANSITIONS, { type: TYPE, id: app.id, state: app.state }, to, actor, reason, data);
    app.state = to;
  }

  /** A subscription message to the applicant (or, for a counter application, every bound resident). */
  protected async notify(em: EntityManager, app: ServiceChange, account: Account, detail: string): Promise<void> {
    const now = this.o.clock();
    const to = app.residentId ? [app.residentId] : await this.o.accounts.residentsOf(app.accountId);
    for (const residentId of to) {
      await this.o.notifications.toResident(
        em,
        residentId,
        'serviceChangeProgress',
        {
          thing1: `${SERVICE_CHANGE_KIND_LABEL[app.kind]} 户号${account.accountNo}`.slice(0, 20),
          phrase2: PHRASE[app.state],
          thing3: detail.slice(0, 20),
          time4: formatChinaTime(now),
        },
        { page: `pages/services/detail?id=${app.id}`, dedupeKey: `sc:${app.id}:${app.state}:${residentId}:${now.getTime()}`, now },
      );
    }
  }

  protected async orderViews(orders: ValveWorkOrder[]): Promise<ValveOrderView[]> {
    if (!orders.length) return [];
    const accounts = await this.o.accounts.accountsByIds(orders.map((o) => o.accountId));
    const byId = new Map(accounts.map((a) => [a.id, a]));
    const ctx = await this.o.accounts.addressContext(accounts);
    return orders.map((o) => ({
      id: o.id,
      applicationId: o.applicationId,
      accountNo: byId.get(o.accountId)?.accountNo ?? '',
      address: byId.has(o.accountId) ? ctx.address(byId.get(o.accountId)!) : '',
      substation: o.substation,
      action: o.action,
      actionLabel: VALVE_ACTION_LABEL[o.action],
      state: o.state,
      stateLabel: VALVE_ORDER_STATE_LABEL[o.state],
      dueDate: o.dueDate,
      doneAt: o.doneAt ? o.doneAt.toISOString() : null,
      photoUrl: o.photoUrl ? this.o.uploads.link(o.photoUrl) : null,
      note: o.note,
    }));
  }

  /**
   * The ID documents go to the applicant and to reviewers of the area (agents, admins) only, as
   * short-lived links; everyone else who may see the application sees which documents it has.
   */
  protected documentsFor(app: ServiceChange, viewer: Viewer): ServiceChangeView['documents'] {
    const applicant = 'residentId' in viewer && app.residentId === viewer.residentId;
    const reviewer = 'staff' in viewer && viewer.staff.roles.some((r) => (DOCUMENT_REVIEWERS as readonly string[]).includes(r));
    return app.documents.map((d) => ({
      kind: d.kind,
      label: documentLabel(d.kind),
      id: applicant ? d.url : null,
      url: applicant || reviewer ? this.o.uploads.link(d.url) : null,
    }));
  }

  async view(app: ServiceChange, viewer: Viewer): Promise<ServiceChangeView> {
    const account = await this.o.accounts.accountOrFail(app.accountId);
    const ctx = await this.o.accounts.addressContext([account]);
    const order = await this.ds.getRepository(ValveWorkOrder).findOne({ where: { applicationId: app.id } });
    let dueFen = 0;
    if (app.state === 'awaiting_payment' && app.billId) {
      const bill = await this.o.billing.bill(app.billId);
      if (bill && bill.status === 'unpaid') dueFen = (await this.o.billing.quoteFor(this.ds.manager, bill, this.o.clock())).dueFen;
    }
    const steps = await timeline(this.ds.manager, TYPE, app.id);
    return {
      id: app.id,
      kind: app.kind,
      kindLabel: SERVICE_CHANGE_KIND_LABEL[app.kind],
      accountId: app.accountId,
      accountNo: account.accountNo,
      address: ctx.address(account),
      season: app.seasonCode,
      seasonLabel: seasonLabel(app.seasonCode),
      state: app.state,
      stateLabel: SERVICE_CHANGE_STATE_LABEL[app.state],
      documents: this.documentsFor(app, viewer),
      problems: app.problems,
      note: app.note,
      late: app.late,
      lateReason: app.lateReason,
      billId: app.billId,
      dueFen,
      refundDueFen: app.refundDueFen,
      cancellable: SERVICE_CHANGE_CANCELLABLE.includes(app.state) && ('staff' in viewer || app.residentId === viewer.residentId),
      workOrder: order ? (await this.orderViews([order]))[0]! : null,
      timeline: steps.map((s) => ({
        state: s.toState,
        label: SERVICE_CHANGE_STATE_LABEL[s.toState as ServiceChangeState] ?? s.toState,
        at: s.at.toISOString(),
        by: s.actorKind as 'resident' | 'staff' | 'system',
        reason: s.reason,
        // the valve photo is shown by the work order's signed link, not by its key
        data: s.data && 'photoUrl' in s.data ? Object.fromEntries(Object.entries(s.data).filter(([k]) => k !== 'photoUrl')) : s.data,
      })),
      createdAt: app.createdAt.toISOString(),
      review: 'staff' in viewer ? await this.reviewFacts(app, account) : null,
    };
  }

  /** The owner's name and who applied, with their relation to the account (staff views only). */
  private async reviewFacts(app: ServiceChange, account: Account): Promise<NonNullable<ServiceChangeView['review']>> {
    if (!app.residentId) return { ownerName: account.ownerName, applicant: { kind: 'staff', relation: null, label: '员工代办', unbound: false } };
    const b = await this.o.accounts.bindingOf(app.residentId, app.accountId);
    const label = !b ? '住户' : b.relation === 'owner' ? '户主本人' : BINDING_RELATION_LABEL[b.relation];
    return { ownerName: account.ownerName, applicant: { kind: 'resident', relation: b?.relation ?? null, label, unbound: !!b && !b.current } };
  }
}
