import crypto from 'node:crypto';
import type { EntityManager } from 'typeorm';
import {
  CreateRepairRequest,
  chinaDate,
  isEmergency,
  REPAIR_CATEGORY_LABEL,
  REPAIR_TRANSITIONS,
  repairDeadlines,
  slotProblem,
  type RateRepairRequest,
  type RepairState,
  type RepairView,
} from '@heat-butler/shared';
import type { z } from 'zod';
import { AppError } from '../../platform/errors';
import { forUpdate, withTx } from '../../platform/db/data-source';
import { applyTransition, recordTransition, type Actor } from '../../platform/state';
import { actorOf, type ResidentPrincipal, type StaffPrincipal } from '../../platform/auth';
import { inScope } from '../../platform/scope';
import type { PhotoVerdict } from '../moderation';
import { RepairTicket } from './entities';
import { RepairsCore, SUBJECT } from './core';

type CreateInput = z.output<typeof CreateRepairRequest>;
type Booker = { actor: Actor; reason: string };

/** What a booked ticket tells the caller who booked it inside their own transaction. */
export interface BookedTicket {
  id: number;
  no: string;
  status: RepairState;
  categoryLabel: string;
  emergency: boolean;
}

/** Booking (by residents, or by staff for a resident) and what residents do with their tickets. */
export class RepairTickets extends RepairsCore {
  /**
   * Staff book a repair for a resident (e.g. from a 管家群 message) inside the caller's
   * transaction `em`: the same booking as the resident's own, on an account the resident has
   * bound in one of the staff member's areas; the timeline records the staff member as the one
   * who registered it. Nothing is written outside `em`: when the caller's transaction fails, no
   * ticket exists.
   */
  async bookForResident(
    em: EntityManager,
    staff: StaffPrincipal,
    residentId: number,
    accountId: number,
    input: Omit<CreateRepairRequest, 'accountId'>,
  ): Promise<BookedTicket> {
    const account = await this.o.accounts.assertBound(residentId, accountId);
    if (!inScope(staff, account.areaId)) throw new AppError('NOT_FOUND');
    const by: Booker = { actor: actorOf(staff), reason: `${staff.name}代住户登记报修` };
    const booking = await this.prepare(residentId, { ...input, accountId }, by, em);
    const id = await this.insertTicket(em, residentId, booking, by);
    const t = await em.findOneByOrFail(RepairTicket, { id });
    return { id: t.id, no: t.no, status: t.status, categoryLabel: REPAIR_CATEGORY_LABEL[t.category], emergency: t.emergency };
  }

  async create(resident: ResidentPrincipal, input: CreateRepairRequest): Promise<RepairView> {
    const booking = await this.prepare(resident.residentId, input, undefined);
    const id = await withTx(this.ds, (em) => this.insertTicket(em, resident.residentId, booking, undefined));
    const { req, account, checked } = booking;
    if (checked) await this.o.moderation.link([checked.recordId], id);
    // photos: checked asynchronously; a risky one is taken off the ticket (onPhotoVerdict)
    for (const photo of req.photos)
      await this.o.moderation.checkPhoto(resident.residentId, photo, { subjectType: 'repair', subjectId: id, scene: 1, areaId: account.areaId });
    return this.viewForResident(resident.residentId, id);
  }

  /** Validation, SLA deadlines and content checks before anything is written (photos are claimed in `em` when given). */
  private async prepare(residentId: number, input: CreateRepairRequest, by: Booker | undefined, em?: EntityManager) {
    const req: CreateInput = CreateRepairRequest.parse(input);
    const now = this.o.clock();
    const account = await this.o.accounts.assertBound(residentId, req.accountId);
    const rules = await this.o.company.rules();
    const slotStart = req.slotStart ? new Date(req.slotStart) : null;
    const slotEnd = req.slotEnd ? new Date(req.slotEnd) : null;
    if (slotStart && slotEnd) {
      const problem = slotProblem(slotStart, slotEnd, now, rules.sla, rules.repairs.bookingHorizonDays);
      if (problem) throw new AppError('REPAIR_SLOT_INVALID', { fields: [{ field: 'slotStart', message: problem }] });
    }
    // a resident's photos; a 管家群 photo turned into a repair keeps its chat upload
    await this.o.uploads.claim(req.photos, { kind: 'resident', id: residentId }, ['repair_photo', 'chat_photo'], 'photos', em);
    // content security of the resident's own words (risky is refused); staff bookings are staff text
    const checked = by ? null : await this.o.moderation.checkText(residentId, req.description, { subjectType: 'repair', scene: 1, areaId: account.areaId });
    const emergency = isEmergency(req.category, req.emergency, rules);
    const due = repairDeadlines({ createdAt: now, category: req.category, emergency, slotEnd }, rules);
    return { req, now, account, slotStart, slotEnd, emergency, due, checked };
  }

  /** The ticket row, its first timeline entry and its automatic dispatch, in `em`. */
  private async insertTicket(em: EntityManager, residentId: number, b: Awaited<ReturnType<RepairTickets['prepare']>>, by: Booker | undefined): Promise<number> {
    const { req, now, account, slotStart, slotEnd, emergency, due } = b;
    const row = em.create(RepairTicket, {
      no: 'BX' + crypto.randomBytes(6).toString('hex').toUpperCase(),
      residentId: residentId,
      accountId: account.id,
      areaId: account.areaId,
      buildingId: account.buildingId,
      category: req.category,
      emergency,
      description: req.description,
      photos: req.photos,
      slotStart,
      slotEnd,
      contactPhone: req.contactPhone ?? account.contactPhone ?? '',
      residentReadingDeciC: req.residentReadingC === undefined ? null : Math.round(req.residentReadingC * 10),
      status: 'pending',
      assigneeId: null,
      assignedAt: null,
      side: null,
      priceItems: null,
      priceFen: null,
      consentAt: null,
      contactedAt: null,
      onSiteAt: null,
      resolvedAt: null,
      closedAt: null,
      resolution: null,
      resolutionPhotos: null,
      materials: null,
      dispatchDueAt: due.dispatchDueAt,
      contactDueAt: due.contactDueAt,
      onSiteDueAt: due.onSiteDueAt,
      doneDueAt: due.doneDueAt,
      reportDueAt: null,
      reportedAt: null,
      report: null,
      callbackDueAt: null,
      escalationLevel: 0,
      escalatedAt: null,
      reopenCount: 0,
      urgeCount: 0,
      lastUrgedAt: null,
      slotChanges: 0,
      rating: null,
      ratingComment: null,
      createdAt: now,
    });
    await em.save(row);
    row.no = `BX${chinaDate(now).replace(/-/g, '')}${String(row.id).padStart(6, '0')}`;
    await em.update(RepairTicket, row.id, { no: row.no });
    const resident: ResidentPrincipal = { kind: 'resident', residentId, sessionId: 0, openid: '' };
    await recordTransition(
      em,
      SUBJECT,
      row.id,
      null,
      'pending',
      by?.actor ?? actorOf(resident),
      by ? `${emergency ? '紧急报修：' : ''}${by.reason}` : emergency ? '紧急报修' : '报修已登记',
    );
    await this.dispatchNew(em, row, now);
    return row.id;
  }

  /** WeChat found a resident's repair photo risky: it leaves the ticket (the moderation trail keeps it). */
  async onPhotoVerdict(ticketId: number, photo: string, verdict: PhotoVerdict): Promise<void> {
    if (verdict !== 'risky') return;
    await withTx(this.ds, async (em) => {
      const t = await forUpdate(em.createQueryBuilder(RepairTicket, 't').where('t.id = :id', { id: ticketId })).getOne();
      if (!t || !t.photos.includes(photo)) return;
      await em.update(RepairTicket, t.id, { photos: t.photos.filter((p) => p !== photo) });
    });
  }

  async listForResident(residentId: number): Promise<{ items: RepairView[] }> {
    const rows = await this.ds.getRepository(RepairTicket).find({ where: { residentId }, order: { id: 'DESC' }, take: 100 });
    return { items: await this.present(rows, false) };
  }

  async cancelByResident(resident: ResidentPrincipal, id: number): Promise<RepairView> {
    await this.move(id, { resident }, 'cancelled', actorOf(resident), '住户取消');
    return this.viewForResident(resident.residentId, id);
  }

  /** The resident accepts (work starts) or declines (ticket cancelled) the price of resident-side work. */
  async consent(resident: ResidentPrincipal, id: number, accept: boolean): Promise<RepairView> {
    const now = this.o.clock();
    await withTx(this.ds, async (em) => {
      const t = await this.lockTicket(em, id, { residentId: resident.residentId });
      if (t.status !== 'awaiting_consent') throw new AppError('INVALID_TRANSITION', { from: t.status, to: accept ? 'in_progress' : 'cancelled' });
      const to: RepairState = accept ? 'in_progress' : 'cancelled';
      await applyTransition(
        em,
        REPAIR_TRANSITIONS,
        { type: SUBJECT, id, state: t.status },
        to,
        actorOf(resident),
        accept ? '住户同意维修费用' : '住户不同意维修费用',
        {
          priceFen: t.priceFen,
        },
      );
      await em.update(RepairTicket, id, { status: to, consentAt: accept ? now : null, closedAt: accept ? null : now });
    });
    return this.viewForResident(resident.residentId, id);
  }

  /** 1–5 stars; unsatisfied (default: under 3 stars) reopens the ticket and escalates it. */
  async rate(resident: ResidentPrincipal, id: number, req: RateRepairRequest): Promise<RepairView> {
    const now = this.o.clock();
    const owned = await this.ds.getRepository(RepairTicket).findOneBy({ id, residentId: resident.residentId });
    if (!owned) throw new AppError('REPAIR_NOT_FOUND');
    const checked = req.comment
      ? await this.o.moderation.checkText(resident.residentId, req.comment, { subjectType: 'repair_rating', scene: 2, areaId: owned.areaId })
      : null;
    if (checked) await this.o.moderation.link([checked.recordId], id);
    const satisfied = req.satisfied ?? req.rating >= (await this.o.company.rules()).repairs.unsatisfiedBelowStars;
    await withTx(this.ds, async (em) => {
      const t = await this.lockTicket(em, id, { residentId: resident.residentId });
      if (satisfied) {
        await applyTransition(em, REPAIR_TRANSITIONS, { type: SUBJECT, id, state: t.status }, 'closed', actorOf(resident), `评价${req.rating}星`);
        await em.update(RepairTicket, id, { status: 'closed', rating: req.rating, ratingComment: req.comment ?? null, closedAt: now });
      } else {
        await applyTransition(
          em,
          REPAIR_TRANSITIONS,
          { type: SUBJECT, id, state: t.status },
          'reopened',
          actorOf(resident),
          `不满意（${req.rating}星）：${req.comment ?? ''}`.slice(0, 200),
        );
        await em.update(RepairTicket, id, { rating: req.rating, ratingComment: req.comment ?? null });
        await this.reopen(em, t, now, '住户评价不满意');
      }
    });
    return this.viewForResident(resident.residentId, id);
  }
}
