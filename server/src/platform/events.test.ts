/**
 * The event catalogue and its delivery: reactions to a payment run after the crediting commit,
 * through the outbox, so a failing reaction (an invoicing bug) never fails WeChat's notification;
 * it is retried later and succeeds. The refund a stop approval owes can't be left out either.
 * The real BFF, the WeChat Pay and e-invoice simulators on loopback, a real database.
 */
import { describe, expect, it } from 'vitest';
import { testAppForFile } from '../test-support/app-for-file';
import { DEMO, demoSeason } from '../demo/seed';
import { OutboxMessage } from './entities';
import { LedgerEntry, PaymentOrder } from '../modules/payments/entities';
import { Invoice } from '../modules/invoices/entities';
import { ServiceChange } from '../modules/service-changes/entities';
import { ServiceChangesService, type ServiceChangesOptions } from '../modules/service-changes';
import { afterCommit, EventBus, inTransaction, type ModuleReactions } from './events';
import { OutboxWorker } from './outbox';
import { createLogger } from './logger';

const [, CURRENT] = DEMO.seasons.map((s) => s.code) as [string, string];
/** the season after the current one: service changes are filed for it */
const NY = Number(CURRENT.slice(0, 4)) + 1;
const NEXT = `${NY}-${NY + 1}`;

/** the app's clock runs this far ahead of the test's: "later", for the outbox's retries */
let skew = 0;
const t = testAppForFile({ seedDemo: true, clock: () => new Date(Date.now() + skew), config: { INVOICE_POLL_DELAY_MS: 0 } });

const sandbox = () => t.sandbox!.state;
const AUTO_ISSUE = 'payment.credited>invoices.auto-issue';

async function currentBill(token: string, accountNo: string, season = CURRENT) {
  const res = await t.call('GET', '/api/v1/bills', { token });
  return res.body.items.find((b: any) => b.accountNo === accountNo && b.season === season);
}

async function pay(r: { token: string; user: string }, billId: number) {
  const order = (await t.call('POST', '/api/v1/payments', { token: r.token, body: { billId } })).body;
  await t.call('POST', '/sandbox/device/pay', { body: { ...order.requestPayment, user: r.user, action: 'confirm' } });
  await sandbox().settleNotifications();
  return order;
}

describe('after-commit reactions to a payment', () => {
  it('an invoicing reaction that keeps throwing fails neither the WeChat notification nor the credit; the outbox retries it later and, fixed, it succeeds', async () => {
    const acc = DEMO.accounts[11]!;
    const r = await t.residentWith(acc);
    await t.call('POST', '/api/v1/invoice-titles', { token: r.token, body: { kind: 'personal', name: acc.ownerName, isDefault: true } });
    await t.allowMessages(r.token, r.user, ['paymentSuccess']);
    const bill = await currentBill(r.token, acc.accountNo);

    // an invoicing bug: the automatic invoice throws, every time, until it is fixed
    const issuing = t.services.invoices.issuing;
    const real = issuing.autoIssue.bind(issuing);
    let broken = true;
    issuing.autoIssue = async (credited) => {
      if (broken) throw new Error('invoicing bug');
      return real(credited);
    };
    try {
      const order = (await t.call('POST', '/api/v1/payments', { token: r.token, body: { billId: bill.id } })).body;
      await t.call('POST', '/sandbox/device/pay', { body: { ...order.requestPayment, user: r.user, action: 'confirm' } });
      await sandbox().settleNotifications();

      // WeChat's notification was answered 204 at the first attempt, and the order credited once
      const event = [...sandbox().notificationEvents.values()].find((e) => e.outTradeNo === order.outTradeNo)!;
      expect(
        sandbox()
          .notifications.filter((a) => a.eventId === event.id)
          .map((a) => a.status),
      ).toEqual([204]);
      expect(await t.ds.getRepository(PaymentOrder).findOneByOrFail({ id: order.id })).toMatchObject({ status: 'paid', creditedBy: 'notify' });
      expect(await t.ds.getRepository(LedgerEntry).find({ where: { orderId: order.id } })).toHaveLength(1);
      expect((await currentBill(r.token, acc.accountNo)).status).toBe('paid');

      // the reaction fails in the outbox, not in the notification; everything else goes on
      await t.services.outbox.drain();
      const row = async () =>
        (await t.ds.getRepository(OutboxMessage).find({ where: { topic: AUTO_ISSUE } })).find((m) =>
          (m.payload as any).events.some((e: any) => e.orderId === order.id),
        )!;
      expect(await row()).toMatchObject({ status: 'pending', attempts: 1, lastError: 'invoicing bug' });
      expect(await t.ds.getRepository(Invoice).find({ where: { orderId: order.id } })).toHaveLength(0);
      expect(
        sandbox().subscribeMessages.some(
          (m) => m.templateId === t.services.notifications.templateId('paymentSuccess') && m.data.character_string1!.value === order.outTradeNo,
        ),
      ).toBe(true);

      // WeChat repeats the notification: still one credit, no second reaction queued
      expect((await sandbox().redeliverNotification(event.id))[0]!.status).toBe(204);
      expect(await t.ds.getRepository(LedgerEntry).find({ where: { orderId: order.id } })).toHaveLength(1);

      // fixed; later (past the backoff) the outbox retries: the invoice is issued
      broken = false;
      skew += 60_000;
      await t.services.outbox.drain();
      expect(await row()).toMatchObject({ status: 'done', attempts: 2 });
      const invoices = await t.ds.getRepository(Invoice).find({ where: { orderId: order.id } });
      expect(invoices.map((i) => [i.direction, i.status, i.amountFen])).toEqual([['blue', 'issued', order.amountFen]]);
      expect(
        (await t.ds.getRepository(OutboxMessage).find({ where: { topic: AUTO_ISSUE } })).filter((m) =>
          (m.payload as any).events.some((e: any) => e.orderId === order.id),
        ),
      ).toHaveLength(1);
    } finally {
      issuing.autoIssue = real;
    }
  });

  it('a failing crediting transaction queues no reaction (the rows commit with the credit, or not at all)', async () => {
    const acc = DEMO.accounts[0]!;
    const r = await t.residentWith(acc);
    const bill = await currentBill(r.token, acc.accountNo);
    const order = (await t.call('POST', '/api/v1/payments', { token: r.token, body: { billId: bill.id } })).body;
    await t.ds.query('ALTER TABLE ledger_entry RENAME TO ledger_entry_away');
    try {
      await t.call('POST', '/sandbox/device/pay', { body: { ...order.requestPayment, user: r.user, action: 'confirm' } });
      await sandbox().settleNotifications();
    } finally {
      await t.ds.query('ALTER TABLE ledger_entry_away RENAME TO ledger_entry');
    }
    const queued = await t.ds.getRepository(OutboxMessage).find({ where: { topic: AUTO_ISSUE } });
    expect(queued.filter((m) => (m.payload as any).events.some((e: any) => e.orderId === order.id))).toHaveLength(0);
    // WeChat's retry credits it, and now the reactions are queued once
    const event = [...sandbox().notificationEvents.values()].find((e) => e.outTradeNo === order.outTradeNo)!;
    expect((await sandbox().redeliverNotification(event.id))[0]!.status).toBe(204);
    const after = await t.ds.getRepository(OutboxMessage).find({ where: { topic: AUTO_ISSUE } });
    expect(after.filter((m) => (m.payload as any).events.some((e: any) => e.orderId === order.id))).toHaveLength(1);
  });
});

describe('the refund a stop approval owes', () => {
  it('cannot be wired out: service-changes is built with payments (no nullable, late-wired field)', () => {
    const build = (o: Omit<ServiceChangesOptions, 'payments'>) =>
      // @ts-expect-error payments is required: an approval never goes without its refund
      new ServiceChangesService(o);
    expect(typeof build).toBe('function');
  });

  it('is part of the approval: when the refund can’t be recorded, nothing is approved', async () => {
    await t.services.billing.createSeason(demoSeason(NY));
    await t.services.billing.issueBills(NEXT);
    const agent = await t.loginStaff('agent1');
    const acc = DEMO.accounts[8]!;
    const r = await t.residentWith(acc);
    // no arrears: this season paid; next season's full fee paid by WeChat Pay
    await pay(r, (await currentBill(r.token, acc.accountNo)).id);
    const order = await pay(r, (await currentBill(r.token, acc.accountNo, NEXT)).id);
    expect((await currentBill(r.token, acc.accountNo, NEXT)).status).toBe('paid');
    const documents = [{ kind: 'id_photo', url: (await t.upload(r.token, 'id_document')).body.id }];
    const created = await t.call('POST', '/api/v1/service-changes', {
      token: r.token,
      body: { accountId: r.accountId, season: NEXT, kind: 'stop', documents },
    });
    expect(created.status).toBe(201);
    const id = created.body.id as number;

    const payments = t.services.payments;
    const real = payments.refundInTx.bind(payments);
    payments.refundInTx = async () => {
      throw new Error('refund not recorded');
    };
    try {
      expect((await t.call('POST', `/api/v1/staff/service-changes/${id}/approve`, { token: agent })).status).toBe(500);
    } finally {
      payments.refundInTx = real;
    }
    // not approved, the bill not re-priced
    expect((await t.ds.getRepository(ServiceChange).findOneByOrFail({ id })).state).toBe('submitted');
    expect(await currentBill(r.token, acc.accountNo, NEXT)).toMatchObject({ kind: 'full', status: 'paid' });
    // approved for real: with the refund of what was paid over the base fee
    const approved = await t.call('POST', `/api/v1/staff/service-changes/${id}/approve`, { token: agent });
    expect(approved.status).toBe(200);
    expect(approved.body.refundDueFen).toBeGreaterThan(0);
    const view = await t.call('GET', `/api/v1/payments/${order.id}`, { token: r.token });
    expect(view.body.refunds).toMatchObject([{ amountFen: approved.body.refundDueFen, kind: 'other' }]);
  });
});

describe('wiring', () => {
  it('lists who reacts to what, and which reactions run inside the emitter’s transaction', () => {
    expect(t.services.events.reactions().sort((a, b) => `${a.event}${a.name}`.localeCompare(`${b.event}${b.name}`))).toEqual([
      { event: 'bill.settled_at_counter', name: 'service-changes.resume-paid', kind: 'after-commit' },
      { event: 'binding.changed', name: 'groups.membership', kind: 'in-transaction' },
      { event: 'building.created', name: 'groups.open-group', kind: 'after-commit' },
      { event: 'payment.credited', name: 'invoices.auto-issue', kind: 'after-commit' },
      { event: 'payment.credited', name: 'service-changes.resume-paid', kind: 'after-commit' },
      { event: 'photo.checked', name: 'groups.photo-verdict', kind: 'after-commit' },
      { event: 'photo.checked', name: 'repairs.photo-verdict', kind: 'after-commit' },
      { event: 'refund.succeeded', name: 'invoices.after-refund', kind: 'after-commit' },
    ]);
  });

  it('refuses to emit before the reactions are wired, an unlisted in-transaction reaction, and a reaction declared twice', async () => {
    const bus = () => new EventBus(new OutboxWorker(t.ds, createLogger('silent')), () => new Date());
    await expect(bus().emit(t.ds.manager, 'payment.credited', [{ orderId: 1, billId: 1, accountId: 1, residentId: 1 }])).rejects.toThrow(
      /before the reactions were wired/,
    );
    const sneaky = { kind: 'in-transaction', event: 'payment.credited', name: 'groups.membership', run: async () => undefined } as never;
    expect(() => bus().wire([{ module: 'x', events: [sneaky] }])).toThrow(/may not run inside the payment.credited transaction/);
    const twice: ModuleReactions = {
      module: 'x',
      events: [afterCommit('refund.succeeded', 'x.y', async () => undefined), afterCommit('refund.succeeded', 'x.y', async () => undefined)],
    };
    expect(() => bus().wire([twice])).toThrow(/declared twice/);
    // the same reactions in any order wire the same way
    const a: ModuleReactions = { module: 'a', events: [inTransaction('groups.membership', async () => undefined)] };
    const b: ModuleReactions = { module: 'b', events: [afterCommit('refund.succeeded', 'b.z', async () => undefined)] };
    const ab = bus();
    ab.wire([a, b]);
    const ba = bus();
    ba.wire([b, a]);
    expect(ab.reactions()).toEqual(ba.reactions());
  });
});
