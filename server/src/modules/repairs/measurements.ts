import type { DataSource, EntityManager } from 'typeorm';
import { In } from 'typeorm';
import {
  canTransition,
  chinaDate,
  chinaDayStart,
  formatChinaTime,
  latestSeasonStartYear,
  MEASUREMENT_TRANSITIONS,
  compliance,
  rulingRefund,
  seasonWindow,
  COMPLIANCE_LABEL,
  inMeasurementWindow,
  type Compliance,
  type MeasurementState,
  type MeasurementBookRequest,
  type MeasurementRecordRequest,
  type RefundView,
  type RefundableOrder,
  type RulingRequest,
} from '@heat-butler/shared';
import { MEASUREMENT_PROTOCOL_REQUIRED } from '@heat-butler/shared';
import type { z } from 'zod';
import { AppError } from '../../platform/errors';
import { forUpdate, isUniqueViolation, withTx } from '../../platform/db/data-source';
import { recordTransition } from '../../platform/state';
import type { StaffPrincipal } from '../../platform/auth';
import type { UploadsService } from '../../platform/uploads/service';
import { actorOf, staffAreaFilter } from '../../platform/auth';
import type { AccountsService } from '../accounts';
import type { CompanyService } from '../company';
import type { BillPayment, PaymentsService } from '../payments';
import { RepairTicket, TemperatureMeasurement, TemperatureReading } from './entities';

const SUBJECT = 'measurement';

export interface MeasurementsOptions {
  ds: DataSource;
  accounts: AccountsService;
  company: CompanyService;
  payments: PaymentsService;
  clock: () => Date;
  uploads: UploadsService;
}

/**
 * Room-temperature measurements: visits only inside the company's measurement windows, readings
 * per room with the protocol check-boxes, compliance against 18 °C and the company's promise, and
 * the three-party ruling finance turns into a refund.
 */
export class MeasurementsService {
  constructor(private o: MeasurementsOptions) {}

  private get ds() {
    return this.o.ds;
  }

  /** Book a visit (resident for a bound account, or staff of the account's area). */
  async book(who: { residentId: number } | StaffPrincipal, req: z.output<typeof MeasurementBookRequest>) {
    const now = this.o.clock();
    const account =
      'residentId' in who && !('staffId' in who)
        ? await this.o.accounts.assertBound(who.residentId, req.accountId)
        : await this.o.accounts.account(req.accountId);
    if (!account) throw new AppError('NOT_FOUND');
    if ('staffId' in who) assertArea(who, account.areaId);
    // a repair named here must be one of this account's tickets (never another household's)
    if (req.repairId !== undefined && !(await this.ds.getRepository(RepairTicket).exists({ where: { id: req.repairId, accountId: account.id } }))) {
      throw new AppError('REPAIR_NOT_FOUND');
    }
    const at = await this.assertBookable(new Date(req.scheduledAt), now);
    const id = await withTx(this.ds, async (em) => {
      await assertDayFree(em, account.id, at);
      const row = em.create(TemperatureMeasurement, {
        no: 'CW' + Date.now().toString(36).toUpperCase() + Math.floor(Math.random() * 1e4),
        accountId: account.id,
        areaId: account.areaId,
        residentId: 'staffId' in who ? null : who.residentId,
        repairId: req.repairId ?? null,
        threeParty: req.threeParty,
        scheduledAt: at,
        activeDay: chinaDate(at),
        status: 'booked',
        measuredAt: null,
        measuredBy: null,
        minReadingDeciC: null,
        compliance: null,
        parties: null,
        rulingRefundFen: null,
        rulingNote: null,
        ruledBy: null,
        ruledAt: null,
        refundId: null,
      });
      await em.save(row).catch(dayTaken);
      row.no = `CW${chinaDate(now).replace(/-/g, '')}${String(row.id).padStart(6, '0')}`;
      await em.update(TemperatureMeasurement, row.id, { no: row.no });
      const actor = 'staffId' in who ? actorOf(who) : { kind: 'resident' as const, id: who.residentId, as: ['resident'] };
      await recordTransition(em, SUBJECT, row.id, null, 'booked', actor, req.threeParty ? '三方测温预约' : '测温预约');
      return row.id;
    });
    return this.view(id);
  }

  /** A booking's time: not in the past, inside one of the company's windows (Harbin 003: 06:00–08:00, 16:00–20:00). */
  private async assertBookable(at: Date, now: Date): Promise<Date> {
    const rules = await this.o.company.rules();
    if (at.getTime() < now.getTime() - 5 * 60_000 || !inMeasurementWindow(at, rules.measurementWindows)) {
      throw new AppError('MEASUREMENT_OUTSIDE_WINDOW', { windows: rules.measurementWindows });
    }
    return at;
  }

  /** The resident's own booked visit, locked, if it may still move to `to` (cancelled, or booked again at a new time). */
  private async lockOwnBooking(em: EntityManager, residentId: number, id: number, to: MeasurementState) {
    const m = await forUpdate(em.createQueryBuilder(TemperatureMeasurement, 'm').where('m.id = :id', { id })).getOne();
    // another household's (or one booked by staff for the household) is not found
    if (!m || m.residentId !== residentId) throw new AppError('MEASUREMENT_NOT_FOUND');
    if (!canTransition(MEASUREMENT_TRANSITIONS, m.status, to, 'resident')) throw new AppError('MEASUREMENT_NOT_CHANGEABLE', { status: m.status });
    return m;
  }

  /** 取消预约: the resident cancels a visit not yet made; its day is free again. */
  async cancel(residentId: number, id: number) {
    await withTx(this.ds, async (em) => {
      const m = await this.lockOwnBooking(em, residentId, id, 'cancelled');
      await em.update(TemperatureMeasurement, id, { status: 'cancelled', activeDay: null });
      await recordTransition(em, SUBJECT, id, m.status, 'cancelled', { kind: 'resident', id: residentId, as: ['resident'] }, '住户取消测温预约');
    });
    return this.view(id);
  }

  /** 改约: a new time inside the windows, on a day the household has no other visit. */
  async reschedule(residentId: number, id: number, scheduledAt: string) {
    const at = await this.assertBookable(new Date(scheduledAt), this.o.clock());
    await withTx(this.ds, async (em) => {
      const m = await this.lockOwnBooking(em, residentId, id, 'booked');
      await assertDayFree(em, m.accountId, at, id);
      await em.update(TemperatureMeasurement, id, { scheduledAt: at, activeDay: chinaDate(at) }).catch(dayTaken);
      await recordTransition(em, SUBJECT, id, 'booked', 'booked', { kind: 'resident', id: residentId, as: ['resident'] }, `改约至 ${formatChinaTime(at)}`);
    });
    return this.view(id);
  }

  /** The company's measurement windows (China time), for booking forms. */
  async windows() {
    return (await this.o.company.rules()).measurementWindows;
  }

  async listForResident(residentId: number) {
    const rows = await this.ds.getRepository(TemperatureMeasurement).find({ where: { residentId }, order: { id: 'DESC' }, take: 50 });
    return { items: await Promise.all(rows.map((r) => this.view(r.id))) };
  }

  async listForStaff(staff: StaffPrincipal) {
    const scope = staffAreaFilter(staff);
    if (scope !== 'all' && !scope.length) return { items: [] };
    const rows = await this.ds
      .getRepository(TemperatureMeasurement)
      .find({ where: scope === 'all' ? {} : { areaId: In(scope) }, order: { id: 'DESC' }, take: 100 });
    return { items: await Promise.all(rows.map((r) => this.view(r.id))) };
  }

  /** Record the readings of a visit; the visit itself must fall inside a measurement window. */
  async record(staff: StaffPrincipal, id: number, req: z.output<typeof MeasurementRecordRequest>) {
    // measured now, by the server's clock: a typed time could put a reading anywhere (Changchun 000)
    const measuredAt = this.o.clock();
    // whose measurement first: another area's is not found, whatever the time
    const own = await this.ds.getRepository(TemperatureMeasurement).findOneBy({ id });
    if (!own) throw new AppError('MEASUREMENT_NOT_FOUND');
    assertArea(staff, own.areaId);
    const rules = await this.o.company.rules();
    if (!inMeasurementWindow(measuredAt, rules.measurementWindows)) throw new AppError('MEASUREMENT_OUTSIDE_WINDOW', { windows: rules.measurementWindows });
    const protocol = req.readings.every((r) => Object.values(r.checks).every(Boolean));
    if (!protocol) {
      throw new AppError('VALIDATION_FAILED', { fields: [{ field: 'readings.checks', message: MEASUREMENT_PROTOCOL_REQUIRED }] });
    }
    await this.o.uploads.claim(
      req.readings.flatMap((r) => (r.photo ? [r.photo] : [])),
      { kind: 'staff', id: staff.staffId },
      ['measurement_photo'],
      'readings.photo',
    );
    await withTx(this.ds, async (em) => {
      const m = await forUpdate(em.createQueryBuilder(TemperatureMeasurement, 'm').where('m.id = :id', { id })).getOne();
      if (!m) throw new AppError('MEASUREMENT_NOT_FOUND');
      assertArea(staff, m.areaId);
      if (m.status !== 'booked') throw new AppError('INVALID_TRANSITION', { from: m.status, to: 'recorded' });
      if (m.threeParty && !req.parties) {
        throw new AppError('VALIDATION_FAILED', { fields: [{ field: 'parties', message: '三方测温须由供热公司、住户、社区三方签字' }] });
      }
      const readings = req.readings.map((r) => ({ ...r, deci: Math.round(r.readingC * 10) }));
      const min = Math.min(...readings.map((r) => r.deci));
      for (const r of readings) {
        await em.insert(TemperatureReading, { measurementId: id, room: r.room, readingDeciC: r.deci, photo: r.photo ?? null, checks: r.checks });
      }
      const c = compliance(min, rules);
      await em.update(TemperatureMeasurement, id, {
        status: 'recorded',
        measuredAt,
        measuredBy: staff.staffId,
        minReadingDeciC: min,
        compliance: c,
        parties: req.parties ?? null,
      });
      await recordTransition(em, SUBJECT, id, 'booked', 'recorded', actorOf(staff), `最低${(min / 10).toFixed(1)}℃，${COMPLIANCE_LABEL[c]}`);
    });
    return this.view(id);
  }

  /**
   * The three-party ruling: only on a reading below the legal standard. The refund is the
   * company's stated rule (rulingRefund) on what was paid for the season measured (not the whole
   * of a pay-all order, which also pays arrears), estimated now and worked out again when finance
   * pays it (a later passing measurement ends the shortfall).
   */
  async rule(staff: StaffPrincipal, id: number, req: z.output<typeof RulingRequest>) {
    const now = this.o.clock();
    await withTx(this.ds, async (em) => {
      const m = await forUpdate(em.createQueryBuilder(TemperatureMeasurement, 'm').where('m.id = :id', { id })).getOne();
      if (!m) throw new AppError('MEASUREMENT_NOT_FOUND');
      assertArea(staff, m.areaId);
      if (!m.threeParty) throw new AppError('MEASUREMENT_NOT_THREE_PARTY');
      if (m.status !== 'recorded') throw new AppError('INVALID_TRANSITION', { from: m.status, to: 'ruled' });
      if (m.compliance !== 'below_legal') throw new AppError('MEASUREMENT_COMPLIANT', { compliance: m.compliance });
      const parts = await this.seasonPayments(m);
      // the payment that settled the season's bill (not a duplicate refunded automatically)
      const basis = parts.find((p) => !p.duplicate) ?? parts[0];
      const estimate = basis ? (await this.refundRule(m, basis)).refundFen : 0;
      await em.update(TemperatureMeasurement, id, { status: 'ruled', rulingRefundFen: estimate, rulingNote: req.note, ruledBy: staff.staffId, ruledAt: now });
      await recordTransition(em, SUBJECT, id, 'recorded', 'ruled', actorOf(staff), req.note, { refundFen: estimate });
    });
    return this.view(id);
  }

  /** The season a measurement falls in (Changchun 000: the refund is of that season's fee). */
  private async seasonOf(m: TemperatureMeasurement) {
    const rules = await this.o.company.rules();
    return { rules, season: seasonWindow(latestSeasonStartYear(m.measuredAt!, rules), rules) };
  }

  /** What the account paid for the measured season's bill, order by order, newest first. */
  private async seasonPayments(m: TemperatureMeasurement): Promise<BillPayment[]> {
    const { season } = await this.seasonOf(m);
    return this.o.payments.paidForSeason(m.accountId, season.label);
  }

  /**
   * The stated refund of a ruling against what one payment paid for the measured season: days
   * below the standard until a later passing measurement or the season's end.
   */
  private async refundRule(m: TemperatureMeasurement, part: Pick<BillPayment, 'paidFen' | 'refundableFen'>) {
    const { rules, season } = await this.seasonOf(m);
    const passed = await this.ds
      .getRepository(TemperatureMeasurement)
      .createQueryBuilder('x')
      .where('x.accountId = :a AND x.measuredAt > :t AND x.measuredAt < :end', { a: m.accountId, t: m.measuredAt, end: season.end })
      .andWhere("x.compliance IN ('ok', 'below_promise')")
      .orderBy('x.measuredAt', 'ASC')
      .getOne();
    const r = rulingRefund({
      paidFen: part.paidFen,
      refundedFen: part.paidFen - part.refundableFen,
      belowFrom: m.measuredAt!,
      belowUntil: passed?.measuredAt ?? season.end,
      season,
      percent: rules.measurementRefund.percent,
    });
    return { ...r, season, payAfterSeason: rules.measurementRefund.payAfterSeason };
  }

  /** Is `ref` the number of a ruled three-party measurement of this account (a finance refund of kind "ruling" must cite one)? */
  async rulingExists(accountId: number, ref: string): Promise<boolean> {
    return this.ds.getRepository(TemperatureMeasurement).exists({ where: { accountId, no: ref, status: 'ruled' } });
  }

  /**
   * The account's paid orders finance can refund a ruling from: those that paid the measured
   * season's bill (newest first), with that season's part and what of it is still refundable.
   */
  async refundableOrders(staff: StaffPrincipal, id: number): Promise<{ items: RefundableOrder[] }> {
    const m = await this.ds.getRepository(TemperatureMeasurement).findOneBy({ id });
    if (!m) throw new AppError('MEASUREMENT_NOT_FOUND');
    assertArea(staff, m.areaId);
    if (!m.measuredAt) return { items: [] };
    const parts = await this.seasonPayments(m);
    return {
      items: parts.map((p) => ({
        id: p.orderId,
        outTradeNo: p.outTradeNo,
        description: p.description,
        amountFen: p.orderAmountFen,
        billId: p.billId,
        seasonFen: p.paidFen,
        refundableFen: p.refundableFen,
        paidAt: p.paidAt?.toISOString() ?? null,
      })),
    };
  }

  /** Finance turns a ruling into a refund of one of the account's paid orders (once). */
  async refund(
    staff: StaffPrincipal,
    id: number,
    orderId: number,
  ): Promise<{ measurement: Awaited<ReturnType<MeasurementsService['view']>>; refund: RefundView }> {
    const m = await this.ds.getRepository(TemperatureMeasurement).findOneBy({ id });
    if (!m) throw new AppError('MEASUREMENT_NOT_FOUND');
    // finance staff serve areas like everyone else: another area's ruling is not found (not its state)
    assertArea(staff, m.areaId);
    if (m.status !== 'ruled') throw new AppError('INVALID_TRANSITION', { from: m.status, to: 'refund' });
    if (m.refundId) throw new AppError('MEASUREMENT_REFUNDED', { refundId: m.refundId > 0 ? m.refundId : null });
    const order = await this.o.payments.order(orderId);
    if (!order || order.accountId !== m.accountId) throw new AppError('ORDER_NOT_FOUND');
    // what this order paid for the measured season: a pay-all order's arrears are not refunded
    const part = (await this.seasonPayments(m)).find((p) => p.orderId === orderId);
    if (!part) throw new AppError('RULING_ORDER_NOT_FOR_SEASON', { orderId });
    const due = await this.refundRule(m, part);
    // paid when the company's rule says: by default after the season (Changchun 000)
    if (due.payAfterSeason && this.o.clock() < due.season.end) throw new AppError('RULING_REFUND_NOT_YET', { payableFrom: due.season.end.toISOString() });
    if (!due.refundFen) throw new AppError('RULING_NO_REFUND', { rule: due.text });
    // claim the ruling first so two clicks cannot refund twice
    const claimed = await this.ds
      .createQueryBuilder()
      .update(TemperatureMeasurement)
      .set({ refundId: -1 })
      .where('id = :id AND refundId IS NULL', { id })
      .execute();
    if (claimed.affected !== 1) throw new AppError('MEASUREMENT_REFUNDED');
    try {
      const refund = await this.o.payments.refund(staff, orderId, {
        amountFen: due.refundFen,
        kind: 'ruling',
        reason: `三方测温室温不达标退费：${due.text}`.slice(0, 200),
        rulingRef: m.no,
        // off the season's bill, whatever else the order paid
        billId: part.billId,
      });
      await this.ds.getRepository(TemperatureMeasurement).update(id, { refundId: refund.id, rulingRefundFen: due.refundFen });
      return { measurement: await this.view(id), refund };
    } catch (err) {
      await this.ds.getRepository(TemperatureMeasurement).update(id, { refundId: null });
      throw err;
    }
  }

  async view(id: number) {
    const m = await this.ds.getRepository(TemperatureMeasurement).findOneByOrFail({ id });
    const readings = await this.ds.getRepository(TemperatureReading).find({ where: { measurementId: id }, order: { id: 'ASC' } });
    const account = await this.o.accounts.account(m.accountId);
    const address = account ? (await this.o.accounts.addressContext([account])).address(account) : '';
    return {
      id: m.id,
      no: m.no,
      accountId: m.accountId,
      address,
      threeParty: m.threeParty,
      scheduledAt: m.scheduledAt.toISOString(),
      status: m.status,
      measuredAt: m.measuredAt?.toISOString() ?? null,
      minReadingC: m.minReadingDeciC === null ? null : m.minReadingDeciC / 10,
      compliance: m.compliance as Compliance | null,
      complianceLabel: m.compliance ? COMPLIANCE_LABEL[m.compliance as Compliance] : null,
      readings: readings.map((r) => ({ room: r.room, readingC: r.readingDeciC / 10, photo: r.photo ? this.o.uploads.link(r.photo) : null, checks: r.checks })),
      parties: m.parties,
      rulingRefundFen: m.rulingRefundFen,
      rulingNote: m.rulingNote,
      refundId: m.refundId && m.refundId > 0 ? m.refundId : null,
    };
  }
}

/** Another visit of the household on the China day of `at` (not cancelled) → MEASUREMENT_DAY_TAKEN. */
async function assertDayFree(em: EntityManager, accountId: number, at: Date, exceptId?: number) {
  const from = chinaDayStart(at);
  const qb = em
    .createQueryBuilder(TemperatureMeasurement, 'm')
    .where('m.accountId = :accountId AND m.status <> :cancelled', { accountId, cancelled: 'cancelled' })
    .andWhere('m.scheduledAt >= :from AND m.scheduledAt < :to', { from, to: chinaDayStart(at, 1) });
  if (exceptId) qb.andWhere('m.id <> :exceptId', { exceptId });
  const other = await qb.getOne();
  if (other) throw new AppError('MEASUREMENT_DAY_TAKEN', { day: chinaDate(at), measurementId: other.id });
}

/** Two bookings racing for one day: the unique (accountId, activeDay) lets one through. */
function dayTaken(err: unknown): never {
  if (isUniqueViolation(err)) throw new AppError('MEASUREMENT_DAY_TAKEN');
  throw err;
}

function assertArea(staff: StaffPrincipal, areaId: number) {
  const scope = staffAreaFilter(staff);
  if (scope !== 'all' && !scope.includes(areaId)) throw new AppError('MEASUREMENT_NOT_FOUND');
}
