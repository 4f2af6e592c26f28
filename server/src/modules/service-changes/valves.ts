import { type EntityManager } from 'typeorm';
import { DateTime } from 'luxon';
import {
  BUSINESS_ZONE,
  formatChinaTime,
  VALVE_ACTION_LABEL,
  VALVE_ORDER_TRANSITIONS,
  type CompanyRules,
  type ValveAction,
  type ValveOrderView,
} from '@heat-butler/shared';
import { AppError } from '../../platform/errors';
import { forUpdate, withTx } from '../../platform/db/data-source';
import { applyTransition, recordTransition, SYSTEM } from '../../platform/state';
import { actorOf, assertStaffArea, type StaffPrincipal } from '../../platform/auth';
import { scopeToAreas } from '../../platform/scope';
import type { Account } from '../accounts';
import { ServiceChange, ValveWorkOrder } from './entities';
import { ORDER_TYPE, ServiceChangeBase } from './base';

/** Valve work orders: dispatched when an application is approved (or its bill paid), done by the crew. */
export abstract class ServiceChangeValves extends ServiceChangeBase {
  /** In a transaction of its own: see onBillsPaid. Re-runnable (only applications still waiting move). */
  async moveOnPaidBills(billIds: readonly number[]): Promise<void> {
    if (billIds.length) await withTx(this.ds, (em) => this.onBillsPaid(em, [...new Set(billIds)]));
  }

  /**
   * A resume whose bill is now paid goes to the crew: the reaction to payment.credited and
   * bill.settled_at_counter (after commit, reactions.ts) and the catch-up when one is looked at.
   */
  protected async onBillsPaid(em: EntityManager, billIds: number[]): Promise<void> {
    // one query for a whole batch of payments (the notification path credits in batches)
    const waiting = await forUpdate(
      em.createQueryBuilder(ServiceChange, 'c').where('c.billId IN (:...billIds) AND c.state = :state', { billIds, state: 'awaiting_payment' }),
    ).getMany();
    if (!waiting.length) return;
    const rules = await this.o.company.rules();
    for (const app of waiting) await this.toWorkOrder(em, app, await this.accountOf(em, app), rules);
  }

  protected async toWorkOrder(em: EntityManager, app: ServiceChange, account: Account, rules: CompanyRules): Promise<void> {
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
}
