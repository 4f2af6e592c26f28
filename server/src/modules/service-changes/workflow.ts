import {
  changeDeadlineText,
  documentLabel,
  formatFen,
  isChangeOpen,
  lateMessage,
  limitTexts,
  missingDocuments,
  nextOpenSeason,
  repeatLimitProblems,
  seasonLabel,
  SERVICE_CHANGE_CANCELLABLE,
  SERVICE_CHANGE_OPEN_STATES,
  type ReviewProblem,
  type ServiceChangeDocument,
  type ServiceChangePreview,
  type ServiceChangeKind,
  type ServiceChangeView,
  type ServiceChangeWindows,
  serviceChangeWindows,
} from '@heat-butler/shared';
import { AppError } from '../../platform/errors';
import { isUniqueViolation, withTx } from '../../platform/db/data-source';
import { recordTransition, SYSTEM, type Actor } from '../../platform/state';
import { actorOf, type StaffPrincipal } from '../../platform/auth';
import { ServiceChange } from './entities';
import { TYPE, type Viewer } from './base';
import { ServiceChangeValves } from './valves';

export interface SubmitInput {
  accountId: number;
  season: string;
  kind: ServiceChangeKind;
  documents: ServiceChangeDocument[];
  note?: string;
}

/** An application's way: preview, submit, fix and resubmit, cancel, review, approve. */
export abstract class ServiceChangeWorkflow extends ServiceChangeValves {
  /** Which seasons accept applications now; when none, when the next window opens and the hotline. */
  async windows(): Promise<ServiceChangeWindows> {
    const [rules, info, seasons] = await Promise.all([this.o.company.rules(), this.o.company.info(), this.o.billing.seasons()]);
    return serviceChangeWindows(
      this.o.clock(),
      rules,
      seasons.map((s) => s.code),
      info.hotline,
    );
  }

  /** Everything the resident should know before applying, and every reason it cannot be filed now. */
  async preview(
    who: { residentId: number } | { staff: StaffPrincipal },
    q: { accountId: number; season: string; kind: ServiceChangeKind },
  ): Promise<ServiceChangePreview> {
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
    const blocking = await this.o.billing.arrearsBlocking(account.id, season.code, q.kind, rules);
    if (blocking) problems.push(blocking.message);
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
    await this.o.uploads.claim(
      input.documents.map((d) => d.url),
      { kind: 'resident', id: residentId },
      ['id_document'],
      'documents',
    );
    const checked = input.note ? await this.o.moderation.checkText(residentId, input.note, { subjectType: 'service_change', scene: 1 }) : null;
    const id = await this.submit({ kind: 'resident', id: residentId, as: ['resident'] }, input, { residentId });
    if (checked) await this.o.moderation.link([checked.recordId], id);
    return this.view(await this.ds.getRepository(ServiceChange).findOneByOrFail({ id }), { residentId });
  }

  /** Filed at the counter; an admin may accept it after the deadline with a recorded reason. */
  async submitByStaff(staff: StaffPrincipal, input: SubmitInput & { lateReason?: string }): Promise<ServiceChangeView> {
    await this.assertAccountAccess({ staff }, input.accountId);
    await this.o.uploads.claim(
      input.documents.map((d) => d.url),
      { kind: 'staff', id: staff.staffId },
      ['id_document'],
      'documents',
    );
    const id = await this.submit(actorOf(staff), input, { staff, lateReason: input.lateReason });
    return this.view(await this.ds.getRepository(ServiceChange).findOneByOrFail({ id }), { staff });
  }

  protected async submit(actor: Actor, input: SubmitInput, by: { residentId?: number; staff?: StaffPrincipal; lateReason?: string }): Promise<number> {
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

    const arrears = await this.o.billing.arrearsBlocking(account.id, season.code, input.kind, rules);
    if (arrears) throw new AppError('SERVICE_CHANGE_ARREARS', arrears);
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
    await this.o.uploads.claim(
      input.documents.map((d) => d.url),
      { kind: 'resident', id: residentId },
      ['id_document'],
      'documents',
    );
    if (input.note)
      await this.o.moderation.link([(await this.o.moderation.checkText(residentId, input.note, { subjectType: 'service_change', scene: 1 })).recordId], id);
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

  protected async cancel(actor: Actor, id: number, viewer: Viewer): Promise<ServiceChangeView> {
    await withTx(this.ds, async (em) => {
      const app = await this.lock(em, id);
      if (!SERVICE_CHANGE_CANCELLABLE.includes(app.state))
        throw new AppError('INVALID_TRANSITION', { from: app.state, to: 'cancelled', message: '申请已审核通过，不能撤销' });
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
   * the valve crew at once; a resume waits until the bill is paid (see onBillsPaid).
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
      // paid in full by WeChat Pay before the stop: the part above the base fee goes back the same
      // way, in this transaction (approved without its refund is not a state we allow)
      if (overpaidFen > 0 && bill.paidVia === 'wechat') {
        if (!bill.paidOrderId) throw new Error(`bill ${bill.id} paid by WeChat Pay has no order to refund`);
        await this.o.payments.refundInTx(em, bill.paidOrderId, {
          amountFen: overpaidFen,
          kind: 'other',
          reason: '报停：退还超出基础热费的已缴热费',
          actor: actorOf(staff),
          billId: bill.id,
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
}
