import { In, type DataSource, type EntityManager } from 'typeorm';
import { DateTime } from 'luxon';
import {
  BUSINESS_ZONE,
  changeDeadlineText,
  chinaDate,
  documentLabel,
  formatChinaTime,
  formatFen,
  isChangeOpen,
  lateMessage,
  limitTexts,
  missingDocuments,
  nextOpenSeason,
  quoteBill,
  repeatLimitProblems,
  seasonCharge,
  seasonLabel,
  SERVICE_CHANGE_CANCELLABLE,
  SERVICE_CHANGE_KIND_LABEL,
  SERVICE_CHANGE_OPEN_STATES,
  SERVICE_CHANGE_STATE_LABEL,
  SERVICE_CHANGE_TRANSITIONS,
  VALVE_ACTION_LABEL,
  VALVE_ORDER_STATE_LABEL,
  VALVE_ORDER_TRANSITIONS,
  type CompanyRules,
  type Page,
  type ReviewProblem,
  type ServiceChangeDocument,
  type ServiceChangeKind,
  type ServiceChangePreview,
  type ServiceChangeState,
  type ServiceChangeView,
  type ValveAction,
  type ValveOrderView,
} from '@heat-butler/shared';
import { AppError } from '../../platform/errors';
import { sheet, xlsxBuffer } from '../../platform/xlsx';
import { forUpdate, isUniqueViolation, withTx } from '../../platform/db/data-source';
import { applyTransition, recordTransition, SYSTEM, timeline, type Actor } from '../../platform/state';
import { actorOf, assertStaffArea, staffAreaFilter, type StaffPrincipal } from '../../platform/auth';
import type { Account, AccountsService } from '../accounts';
import type { BillingService } from '../billing';
import type { Season } from '../billing';
import type { CompanyService } from '../company';
import type { NotificationsService } from '../notifications';
import type { PaymentsService } from '../payments';
import type { UploadsService } from '../../platform/uploads/service';
import { ServiceChange, ValveWorkOrder } from './entities';
import { scopeToAreas } from '../../platform/scope';
import type { ModerationService } from '../moderation';

const TYPE = 'service_change';
const ORDER_TYPE = 'valve_work_order';

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
}

/** Who is looking at an application: decides whether the ID documents and cancel are offered. */
type Viewer = { residentId: number } | { staff: StaffPrincipal };

/** Staff roles whose work needs the ID documents (they review applications); not workers, finance, crews. */
const DOCUMENT_REVIEWERS = ['agent', 'admin'] as const;

export interface SubmitInput {
  accountId: number;
  season: string;
  kind: ServiceChangeKind;
  documents: ServiceChangeDocument[];
  note?: string;
}

/**
 * 报停/复供: applications checked against the company's rules (deadline, arrears, repeat limits,
 * documents), reviewed by agents of the area, re-pricing the season's bill, and carried out by a
 * valve work order that the substation crew completes. One status for resident, counter and crew.
 */
export class ServiceChangesService {
  constructor(private o: ServiceChangesOptions) {}

  private get ds() {
    return this.o.ds;
  }

  /** A resume waits for its bill to be paid: move it on inside the crediting transaction. */
  private payments: PaymentsService | null = null;

  register(payments: PaymentsService): void {
    this.payments = payments;
    payments.onPaid(async (em, orders) => this.onBillsPaid(em, orders.map((o) => o.billId)));
    this.o.billing.onSettledAtCounter((em, billIds) => this.onBillsPaid(em, billIds));
  }

  // ---- checks shared by the preview and the submission ------------------------------------------

  private async context(accountId: number, seasonCode: string) {
    const account = await this.o.accounts.account(accountId);
    if (!account) throw new AppError('ACCOUNT_NOT_FOUND');
    const season = await this.o.billing.seasonByCode(seasonCode);
    const rules = await this.o.company.rules();
    return { account, season, rules };
  }

  private async priorChanges(em: EntityManager, accountId: number, seasonId: number) {
    return em.find(ServiceChange, { where: { accountId, seasonId } });
  }

  private eligibility(kind: ServiceChangeKind, account: Account): string | null {
    if (kind === 'stop' && account.status !== 'active') return '该户号当前不是正常供热状态，无需报停';
    if (kind === 'resume' && account.status !== 'stopped' && account.status !== 'sealed') return '该户号当前未报停，无需复供';
    return null;
  }

  private async fee(kind: ServiceChangeKind, account: Account, season: Season) {
    const bill = await this.o.billing.billFor(account.id, season.id);
    const price = bill
      ? { tariffs: { residential: bill.unitPriceFen, commercial: bill.unitPriceFen }, baseFeeRatioBp: season.baseFeeRatioBp }
      : season;
    const area = bill?.heatedArea ?? account.heatedArea;
    const use = bill ? 'residential' : account.use;
    const full = seasonCharge({ heatedArea: area, use, kind: 'full', season: price }).chargeFen;
    const base = seasonCharge({ heatedArea: area, use, kind: 'base', season: price }).chargeFen;
    const newChargeFen = kind === 'stop' ? base : full;
    const paidFen = bill?.paidFen ?? 0;
    const today = chinaDate(this.o.clock());
    const q = quoteBill({ chargeFen: newChargeFen, paidFen, lines: [] }, season, today);
    let refundDueFen = 0;
    if (kind === 'stop' && paidFen > 0) {
      const atPaid = quoteBill({ chargeFen: base, paidFen: 0, lines: [] }, season, bill?.paidAt ? chinaDate(bill.paidAt) : today);
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

  private async arrears(accountId: number, seasonCode: string) {
    const bills = await this.o.billing.unpaidBefore(accountId, seasonCode);
    return { totalFen: bills.reduce((s, b) => s + b.dueFen, 0), bills: bills.map((b) => ({ billId: b.id, season: b.season, dueFen: b.dueFen })) };
  }

  /** Everything the resident should know before applying, and every reason it cannot be filed now. */
  async preview(who: { residentId: number } | { staff: StaffPrincipal }, q: { accountId: number; season: string; kind: ServiceChangeKind }): Promise<ServiceChangePreview> {
    await this.assertAccountAccess(who, q.accountId);
    const { account, season, rules } = await this.context(q.accountId, q.season);
    const now = this.o.clock();
    const problems: string[] = [];
    const open = isChangeOpen(season.code, now, rules);
    if (!open) problems.push(lateMessage(season.code, now, rules));
    const notEligible = this.eligibility(q.kind, account);
    if (notEligible) problems.push(notEligible);
    const prior = await this.priorChanges(this.ds.manager, account.id, season.id);
    if (prior.some((p) => SERVICE_CHANGE_OPEN_STATES.includes(p.state))) problems.push('该户号本采暖季已有办理中的申请');
    problems.push(...repeatLimitProblems(q.kind, prior, rules));
    const arrears = await this.arrears(account.id, season.code);
    if (q.kind === 'stop' && arrears.totalFen > 0) problems.push(`该户号有欠费${formatFen(arrears.totalFen)}未缴清，请先缴清欠费再报停`);
    return {
      kind: q.kind,
      accountId: account.id,
      accountNo: account.accountNo,
      accountStatus: account.status,
      season: season.code,
      seasonLabel: seasonLabel(season.code),
      deadline: changeDeadlineText(season.code, rules),
      open,
      nextSeason: nextOpenSeason(now, rules),
      rules: limitTexts(rules),
      requiredDocuments: rules.serviceChange.requiredDocuments.map((kind) => ({ kind, label: documentLabel(kind) })),
      fee: await this.fee(q.kind, account, season),
      arrears,
      problems,
    };
  }

  // ---- submitting ----------------------------------------------------------------------------------

  /** A resident applies for an account bound to them. */
  async submitByResident(residentId: number, input: SubmitInput): Promise<ServiceChangeView> {
    await this.assertAccountAccess({ residentId }, input.accountId);
    await this.o.uploads.claim(input.documents.map((d) => d.url), { kind: 'resident', id: residentId }, ['id_document'], 'documents');
    const checked = input.note ? await this.o.moderation.checkText(residentId, input.note, { subjectType: 'service_change', scene: 1 }) : null;
    const id = await this.submit({ kind: 'resident', id: residentId, as: ['resident'] }, input, { residentId });
    if (checked) await this.o.moderation.link([checked.recordId], id);
    return this.view(await this.ds.getRepository(ServiceChange).findOneByOrFail({ id }), { residentId });
  }

  /** Filed at the counter; an admin may accept it after the deadline with a recorded reason. */
  async submitByStaff(staff: StaffPrincipal, input: SubmitInput & { lateReason?: string }): Promise<ServiceChangeView> {
    await this.assertAccountAccess({ staff }, input.accountId);
    await this.o.uploads.claim(input.documents.map((d) => d.url), { kind: 'staff', id: staff.staffId }, ['id_document'], 'documents');
    const id = await this.submit(actorOf(staff), input, { staff, lateReason: input.lateReason });
    return this.view(await this.ds.getRepository(ServiceChange).findOneByOrFail({ id }), { staff });
  }

  private async submit(
    actor: Actor,
    input: SubmitInput,
    by: { residentId?: number; staff?: StaffPrincipal; lateReason?: string },
  ): Promise<number> {
    const { account, season, rules } = await this.context(input.accountId, input.season);
    const now = this.o.clock();

    let late = false;
    if (!isChangeOpen(season.code, now, rules)) {
      const admin = by.staff?.roles.includes('admin');
      if (!admin) {
        throw new AppError('SERVICE_CHANGE_DEADLINE_PASSED', {
          season: season.code,
          deadline: changeDeadlineText(season.code, rules),
          nextSeason: nextOpenSeason(now, rules),
          message: lateMessage(season.code, now, rules),
        });
      }
      if (!by.lateReason) throw new AppError('SERVICE_CHANGE_LATE_REASON', { deadline: changeDeadlineText(season.code, rules) });
      late = true;
    }
    const notEligible = this.eligibility(input.kind, account);
    if (notEligible) throw new AppError('SERVICE_CHANGE_NOT_ELIGIBLE', { status: account.status, message: notEligible });

    if (input.kind === 'stop') {
      const arrears = await this.arrears(account.id, season.code);
      if (arrears.totalFen > 0) throw new AppError('SERVICE_CHANGE_ARREARS', { ...arrears, message: `该户号有欠费${formatFen(arrears.totalFen)}未缴清，请先缴清欠费再报停` });
    }
    const missing = missingDocuments(rules.serviceChange.requiredDocuments, input.documents);
    if (missing.length) throw new AppError('SERVICE_CHANGE_DOCUMENTS_MISSING', { missing: missing.map((kind) => ({ kind, label: documentLabel(kind) })) });

    try {
      return await withTx(this.ds, async (em) => {
        const prior = await this.priorChanges(em, account.id, season.id);
        if (prior.some((p) => SERVICE_CHANGE_OPEN_STATES.includes(p.state))) throw new AppError('SERVICE_CHANGE_EXISTS');
        const limits = repeatLimitProblems(input.kind, prior, rules);
        if (limits.length) throw new AppError('SERVICE_CHANGE_LIMIT', { problems: limits });
        const row = em.create(ServiceChange, {
          kind: input.kind,
          accountId: account.id,
          areaId: account.areaId,
          buildingId: account.buildingId,
          seasonId: season.id,
          seasonCode: season.code,
          state: 'submitted',
          openKey: `${account.id}:${season.id}`,
          residentId: by.residentId ?? null,
          filedByStaffId: by.staff?.staffId ?? null,
          documents: input.documents,
          problems: [],
          note: input.note ?? null,
          late,
          lateReason: late ? by.lateReason! : null,
          billId: null,
          refundDueFen: 0,
          approvedAt: null,
          doneAt: null,
        });
        await em.save(row);
        await recordTransition(em, TYPE, row.id, null, 'submitted', actor, late ? `逾期受理：${by.lateReason}` : null, late ? { late: true } : undefined);
        await this.notify(em, row, account, '申请已提交，等待审核');
        return row.id;
      });
    } catch (err) {
      // two taps at once: the open-application key lets only one through
      if (isUniqueViolation(err)) throw new AppError('SERVICE_CHANGE_EXISTS');
      throw err;
    }
  }

  /** The resident fixes every listed problem in the same application and sends it again. */
  async resubmit(residentId: number, id: number, input: { documents: ServiceChangeDocument[]; note?: string }): Promise<ServiceChangeView> {
    await this.forApplicant(residentId, id);
    await this.o.uploads.claim(input.documents.map((d) => d.url), { kind: 'resident', id: residentId }, ['id_document'], 'documents');
    if (input.note) await this.o.moderation.link([(await this.o.moderation.checkText(residentId, input.note, { subjectType: 'service_change', scene: 1 })).recordId], id);
    const rules = await this.o.company.rules();
    const missing = missingDocuments(rules.serviceChange.requiredDocuments, input.documents);
    if (missing.length) throw new AppError('SERVICE_CHANGE_DOCUMENTS_MISSING', { missing: missing.map((kind) => ({ kind, label: documentLabel(kind) })) });
    await withTx(this.ds, async (em) => {
      const app = await this.lock(em, id);
      await this.move(em, app, 'submitted', { kind: 'resident', id: residentId, as: ['resident'] }, '已补正材料重新提交');
      app.documents = input.documents;
      if (input.note !== undefined) app.note = input.note;
      await em.save(app);
      await this.notify(em, app, await this.accountOf(em, app), '补正材料已提交，等待审核');
    });
    return this.view(await this.ds.getRepository(ServiceChange).findOneByOrFail({ id }), { residentId });
  }

  async cancelByResident(residentId: number, id: number): Promise<ServiceChangeView> {
    await this.forApplicant(residentId, id);
    return this.cancel({ kind: 'resident', id: residentId, as: ['resident'] }, id, { residentId });
  }

  async cancelByStaff(staff: StaffPrincipal, id: number): Promise<ServiceChangeView> {
    await this.forStaff(staff, id);
    return this.cancel(actorOf(staff), id, { staff });
  }

  private async cancel(actor: Actor, id: number, viewer: Viewer): Promise<ServiceChangeView> {
    await withTx(this.ds, async (em) => {
      const app = await this.lock(em, id);
      if (!SERVICE_CHANGE_CANCELLABLE.includes(app.state)) throw new AppError('INVALID_TRANSITION', { from: app.state, to: 'cancelled', message: '申请已审核通过，不能撤销' });
      await this.move(em, app, 'cancelled', actor, actor.kind === 'resident' ? '居民撤销' : '营业厅撤销');
      app.openKey = null;
      await em.save(app);
      await this.notify(em, app, await this.accountOf(em, app), '申请已撤销');
    });
    return this.view(await this.ds.getRepository(ServiceChange).findOneByOrFail({ id }), viewer);
  }

  // ---- review -------------------------------------------------------------------------------------

  async startReview(staff: StaffPrincipal, id: number): Promise<ServiceChangeView> {
    await this.forStaff(staff, id);
    await withTx(this.ds, async (em) => {
      const app = await this.lock(em, id);
      await this.move(em, app, 'under_review', actorOf(staff));
      await em.save(app);
      await this.notify(em, app, await this.accountOf(em, app), '客服正在审核您的申请');
    });
    return this.view(await this.ds.getRepository(ServiceChange).findOneByOrFail({ id }), { staff });
  }

  /** Every document problem at once; the resident fixes them in the same application. */
  async reject(staff: StaffPrincipal, id: number, problems: ReviewProblem[]): Promise<ServiceChangeView> {
    await this.forStaff(staff, id);
    await withTx(this.ds, async (em) => {
      const app = await this.lock(em, id);
      if (app.state === 'submitted') await this.move(em, app, 'under_review', actorOf(staff));
      const reason = problems.map((p, i) => `${i + 1}. ${p.document ? `${documentLabel(p.document)}：` : ''}${p.message}`).join('；');
      await this.move(em, app, 'rejected', actorOf(staff), reason.slice(0, 500), { problems });
      app.problems = problems;
      await em.save(app);
      await this.notify(em, app, await this.accountOf(em, app), `有${problems.length}项材料问题需补正`);
    });
    return this.view(await this.ds.getRepository(ServiceChange).findOneByOrFail({ id }), { staff });
  }

  /**
   * Approve: the season's bill is re-priced (stop → base fee, resume → full fee). A stop goes to
   * the valve crew at once; a resume waits until the bill is paid (see onBillPaid).
   */
  async approve(staff: StaffPrincipal, id: number): Promise<ServiceChangeView> {
    await this.forStaff(staff, id);
    const rules = await this.o.company.rules();
    await withTx(this.ds, async (em) => {
      const app = await this.lock(em, id);
      const account = await this.accountOf(em, app);
      if (app.state === 'submitted') await this.move(em, app, 'under_review', actorOf(staff));
      await this.move(em, app, 'approved', actorOf(staff));
      app.approvedAt = this.o.clock();
      app.problems = [];
      const { bill, overpaidFen } = await this.o.billing.reprice(em, app.accountId, app.seasonId, app.kind === 'stop' ? 'base' : 'full');
      app.billId = bill.id;
      app.refundDueFen = overpaidFen;
      // paid in full by WeChat Pay before the stop: the part above the base fee goes back the same way
      if (overpaidFen > 0 && bill.paidVia === 'wechat' && bill.paidOrderId && this.payments) {
        await this.payments.refundInTx(em, bill.paidOrderId, {
          amountFen: overpaidFen,
          kind: 'other',
          reason: '报停：退还超出基础热费的已缴热费',
          actor: actorOf(staff),
        });
      }
      if (app.kind === 'resume' && bill.status !== 'paid') {
        await this.move(em, app, 'awaiting_payment', SYSTEM, null, { billId: bill.id });
        await em.save(app);
        const due = await this.o.billing.quoteFor(em, bill, this.o.clock());
        await this.notify(em, app, account, `审核通过，请缴费${formatFen(due.dueFen)}后开阀`);
        return;
      }
      await this.toWorkOrder(em, app, account, rules);
    });
    return this.view(await this.ds.getRepository(ServiceChange).findOneByOrFail({ id }), { staff });
  }

  /** Inside payments' crediting transaction: a resume whose bill is now paid goes to the crew. */
  private async onBillsPaid(em: EntityManager, billIds: number[]): Promise<void> {
    // one query for a whole batch of payments (the notification path credits in batches)
    const waiting = await forUpdate(
      em.createQueryBuilder(ServiceChange, 'c').where('c.billId IN (:...billIds) AND c.state = :state', { billIds, state: 'awaiting_payment' }),
    ).getMany();
    if (!waiting.length) return;
    const rules = await this.o.company.rules();
    for (const app of waiting) await this.toWorkOrder(em, app, await this.accountOf(em, app), rules);
  }

  private async toWorkOrder(em: EntityManager, app: ServiceChange, account: Account, rules: CompanyRules): Promise<void> {
    const season = await this.o.billing.seasonByCode(app.seasonCode);
    const action: ValveAction = app.kind === 'resume' ? 'open' : rules.serviceChange.stopValveAction;
    const dueDate = DateTime.fromISO(season.startDate, { zone: BUSINESS_ZONE }).minus({ days: 1 }).toISODate()!;
    const building = (await this.o.accounts.addressContext([account])).buildings.get(account.buildingId);
    const order = em.create(ValveWorkOrder, {
      applicationId: app.id,
      accountId: app.accountId,
      areaId: app.areaId,
      buildingId: app.buildingId,
      substation: building?.substation ?? null,
      seasonCode: app.seasonCode,
      action,
      state: 'open',
      dueDate,
      doneAt: null,
      doneByStaffId: null,
      photoUrl: null,
      photoKeepUntil: null,
      note: null,
    });
    await em.save(order);
    await recordTransition(em, ORDER_TYPE, order.id, null, 'open', SYSTEM, null, { applicationId: app.id });
    await this.move(em, app, 'work_order', SYSTEM, null, { workOrderId: order.id, action, dueDate });
    await em.save(app);
    await this.notify(em, app, account, `已派${VALVE_ACTION_LABEL[action]}工单，${dueDate}前完成`);
  }

  // ---- valve work orders ----------------------------------------------------------------------------

  async valveOrders(staff: StaffPrincipal, q: { state?: ValveWorkOrder['state']; season?: string }): Promise<{ items: ValveOrderView[] }> {
    const qb = this.ds.getRepository(ValveWorkOrder).createQueryBuilder('o').orderBy('o.dueDate', 'ASC').addOrderBy('o.id', 'ASC');
    const scope = staffAreaFilter(staff);
    scopeToAreas(qb, 'o.areaId', staff);
    if (q.state) qb.andWhere('o.state = :state', { state: q.state });
    if (q.season) qb.andWhere('o.seasonCode = :season', { season: q.season });
    return { items: await this.orderViews(await qb.take(500).getMany()) };
  }

  /** The crew marks the valve work done with a photo; only now does the account's status change. */
  async completeValveOrder(
    staff: StaffPrincipal,
    orderId: number,
    input: { action?: ValveAction; photoUrl: string; note?: string; doneAt?: string },
  ): Promise<ValveOrderView> {
    const found = await this.ds.getRepository(ValveWorkOrder).findOne({ where: { id: orderId } });
    if (!found) throw new AppError('VALVE_ORDER_NOT_FOUND');
    try {
      assertStaffArea(staff, found.areaId);
    } catch {
      throw new AppError('VALVE_ORDER_NOT_FOUND');
    }
    await this.o.uploads.claim([input.photoUrl], { kind: 'staff', id: staff.staffId }, ['valve_photo'], 'photoUrl');
    const rules = await this.o.company.rules();
    const now = this.o.clock();
    const doneAt = input.doneAt ? new Date(input.doneAt) : now;
    await withTx(this.ds, async (em) => {
      const order = await forUpdate(em.createQueryBuilder(ValveWorkOrder, 'o').where('o.id = :id', { id: orderId })).getOneOrFail();
      const action = input.action ?? order.action;
      const allowed: ValveAction[] = order.action === 'open' ? ['open'] : ['close', 'seal'];
      if (!allowed.includes(action)) throw new AppError('VALVE_ACTION_MISMATCH', { expected: allowed });
      await applyTransition(em, VALVE_ORDER_TRANSITIONS, { type: ORDER_TYPE, id: order.id, state: order.state }, 'done', actorOf(staff), input.note ?? null, {
        action,
        photoUrl: input.photoUrl,
      });
      Object.assign(order, {
        state: 'done',
        action,
        doneAt,
        doneByStaffId: staff.staffId,
        photoUrl: input.photoUrl,
        photoKeepUntil: new Date(doneAt.getTime() + rules.retention.photoDays * 86_400_000),
        note: input.note ?? null,
      });
      await em.save(order);
      const app = await this.lock(em, order.applicationId);
      await this.move(em, app, 'done', SYSTEM, null, { action, photoUrl: input.photoUrl, doneAt: doneAt.toISOString(), note: input.note ?? null });
      app.doneAt = doneAt;
      app.openKey = null;
      await em.save(app);
      const status = app.kind === 'resume' ? 'active' : action === 'seal' ? 'sealed' : 'stopped';
      // the account's status belongs to accounts; it changes only when the valve work is done
      await this.o.accounts.setStatus(em, app.accountId, status);
      await this.notify(em, app, await this.accountOf(em, app), `${VALVE_ACTION_LABEL[action]}完成 ${formatChinaTime(doneAt)}`);
    });
    const [view] = await this.orderViews([await this.ds.getRepository(ValveWorkOrder).findOneByOrFail({ id: orderId })]);
    return view!;
  }

  // ---- reading ----------------------------------------------------------------------------------------

  async listForResident(residentId: number): Promise<{ items: ServiceChangeView[] }> {
    const bound = await this.o.accounts.listBound(residentId);
    if (!bound.length) return { items: [] };
    const rows = await this.ds.getRepository(ServiceChange).find({ where: { accountId: In(bound.map((b) => b.accountId)) }, order: { id: 'DESC' } });
    return { items: await Promise.all(rows.map((r) => this.view(r, { residentId }))) };
  }

  async getForResident(residentId: number, id: number): Promise<ServiceChangeView> {
    return this.view(await this.catchUp(await this.forResident(residentId, id)), { residentId });
  }

  async getForStaff(staff: StaffPrincipal, id: number): Promise<ServiceChangeView> {
    return this.view(await this.catchUp(await this.forStaff(staff, id)), { staff });
  }

  /**
   * A resume whose bill was settled some other way than WeChat Pay or the counter (an import):
   * the application moves on when it is next looked at.
   */
  private async catchUp(app: ServiceChange): Promise<ServiceChange> {
    if (app.state !== 'awaiting_payment' || !app.billId) return app;
    const bill = await this.o.billing.bill(app.billId);
    if (bill?.status !== 'paid') return app;
    await withTx(this.ds, (em) => this.onBillsPaid(em, [bill.id]));
    return this.ds.getRepository(ServiceChange).findOneByOrFail({ id: app.id });
  }

  async listForStaff(
    staff: StaffPrincipal,
    q: { page: number; pageSize: number; state?: ServiceChangeState; season?: string; kind?: ServiceChangeKind; buildingId?: number; areaId?: number },
  ): Promise<Page<ServiceChangeView>> {
    const qb = this.ds.getRepository(ServiceChange).createQueryBuilder('c').orderBy('c.id', 'ASC');
    const scope = staffAreaFilter(staff);
    scopeToAreas(qb, 'c.areaId', staff);
    if (q.areaId) qb.andWhere('c.areaId = :areaId', { areaId: q.areaId });
    if (q.buildingId) qb.andWhere('c.buildingId = :buildingId', { buildingId: q.buildingId });
    if (q.state) qb.andWhere('c.state = :state', { state: q.state });
    if (q.season) qb.andWhere('c.seasonCode = :season', { season: q.season });
    if (q.kind) qb.andWhere('c.kind = :kind', { kind: q.kind });
    const [rows, total] = await qb.skip((q.page - 1) * q.pageSize).take(q.pageSize).getManyAndCount();
    return { items: await Promise.all(rows.map((r) => this.view(r, { staff }))), total, page: q.page, pageSize: q.pageSize };
  }

  /** The staff list as XLSX (same filters, every page, at most 5000 rows). */
  async exportForStaff(
    staff: StaffPrincipal,
    q: { state?: ServiceChangeState; season?: string; kind?: ServiceChangeKind; buildingId?: number; areaId?: number },
  ): Promise<Buffer> {
    const qb = this.ds.getRepository(ServiceChange).createQueryBuilder('c').orderBy('c.id', 'ASC').take(5000);
    const scope = staffAreaFilter(staff);
    scopeToAreas(qb, 'c.areaId', staff);
    if (q.areaId) qb.andWhere('c.areaId = :areaId', { areaId: q.areaId });
    if (q.buildingId) qb.andWhere('c.buildingId = :buildingId', { buildingId: q.buildingId });
    if (q.state) qb.andWhere('c.state = :state', { state: q.state });
    if (q.season) qb.andWhere('c.seasonCode = :season', { season: q.season });
    if (q.kind) qb.andWhere('c.kind = :kind', { kind: q.kind });
    const rows = await qb.getMany();
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
            value: (r) => (r.state === 'rejected' ? r.problems.map((p) => `${p.document ? `${documentLabel(p.document)}：` : ''}${p.message}`).join('；') : null),
          },
          { header: '阀门工单', width: 14, value: (r) => (orderOf.get(r.id) ? `${VALVE_ACTION_LABEL[orderOf.get(r.id)!.action]} ${VALVE_ORDER_STATE_LABEL[orderOf.get(r.id)!.state]}` : null) },
          { header: '施工完成时间', width: 20, value: (r) => orderOf.get(r.id)?.doneAt, format: 'chinaTime' },
          { header: '应退差额（元）', width: 14, value: (r) => r.refundDueFen || null, format: 'yuan' },
          { header: '提交时间', width: 20, value: (r) => r.createdAt, format: 'chinaTime' },
        ],
      }),
    ]);
  }

  // ---- helpers -------------------------------------------------------------------------------------------

  private async assertAccountAccess(who: { residentId: number } | { staff: StaffPrincipal }, accountId: number): Promise<void> {
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
  private async forResident(residentId: number, id: number): Promise<ServiceChange> {
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
  private async forApplicant(residentId: number, id: number): Promise<ServiceChange> {
    const app = await this.forResident(residentId, id);
    if (app.residentId !== residentId) throw new AppError('SERVICE_CHANGE_NOT_APPLICANT');
    return app;
  }

  private async forStaff(staff: StaffPrincipal, id: number): Promise<ServiceChange> {
    const app = await this.ds.getRepository(ServiceChange).findOne({ where: { id } });
    if (!app) throw new AppError('SERVICE_CHANGE_NOT_FOUND');
    try {
      assertStaffArea(staff, app.areaId);
    } catch {
      throw new AppError('SERVICE_CHANGE_NOT_FOUND');
    }
    return app;
  }

  private async lock(em: EntityManager, id: number): Promise<ServiceChange> {
    const app = await forUpdate(em.createQueryBuilder(ServiceChange, 'c').where('c.id = :id', { id })).getOne();
    if (!app) throw new AppError('SERVICE_CHANGE_NOT_FOUND');
    return app;
  }

  private async accountOf(em: EntityManager, app: ServiceChange): Promise<Account> {
    return this.o.accounts.accountOrFail(app.accountId, em);
  }

  private async move(em: EntityManager, app: ServiceChange, to: ServiceChangeState, actor: Actor, reason?: string | null, data?: Record<string, unknown>) {
    await applyTransition(em, SERVICE_CHANGE_TRANSITIONS, { type: TYPE, id: app.id, state: app.state }, to, actor, reason, data);
    app.state = to;
  }

  /** A subscription message to the applicant (or, for a counter application, every bound resident). */
  private async notify(em: EntityManager, app: ServiceChange, account: Account, detail: string): Promise<void> {
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

  private async orderViews(orders: ValveWorkOrder[]): Promise<ValveOrderView[]> {
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

  /** The staff dashboard: applications waiting for review and open valve work orders in the staff member's areas. */
  async openCounts(p: StaffPrincipal): Promise<{ pendingReview: number; valveOrdersOpen: number }> {
    const sc = this.ds.getRepository(ServiceChange).createQueryBuilder('c').where('c.state IN (:...s)', { s: ['submitted', 'under_review'] });
    const vo = this.ds.getRepository(ValveWorkOrder).createQueryBuilder('v').where('v.state = :s', { s: 'open' });
    return { pendingReview: await scopeToAreas(sc, 'c.areaId', p).getCount(), valveOrdersOpen: await scopeToAreas(vo, 'v.areaId', p).getCount() };
  }

  /**
   * The ID documents go to the applicant and to reviewers of the area (agents, admins) only, as
   * short-lived links; everyone else who may see the application sees which documents it has.
   */
  private documentsFor(app: ServiceChange, viewer: Viewer): ServiceChangeView['documents'] {
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
    };
  }
}
