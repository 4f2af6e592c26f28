/**
 * Repairs: booking, dispatch (routine → the area's butler, emergency → the area's crew, or a grab
 * pool with auto-assignment after a timeout), resident-side consent, 催单 and 改约, closing loop
 * with rating and callbacks, SLA escalation.
 * This class is the module's service; the work is done by the parts beside it (tickets.ts,
 * dispatch.ts, fieldwork.ts, callbacks.ts, escalation.ts, promises.ts on core.ts).
 */
import type { EntityManager } from 'typeorm';
import type {
  CreateRepairRequest,
  RateRepairRequest,
  RepairState,
  CallbackDoneRequest,
  RescheduleRequest,
  ResolveRequest,
  SideRequest,
} from '@heat-butler/shared';
import type { z } from 'zod';
import { isUniqueViolation } from '../../platform/db/data-source';
import type { OutboxWorker } from '../../platform/outbox';
import type { ResidentPrincipal, StaffPrincipal } from '../../platform/auth';
import { RepairStaffNotice } from './entities';
import { RepairInsights } from './insights';
import { STAFF_NOTICE_TOPIC, type RepairsOptions } from './core';
import { RepairTickets } from './tickets';
import { RepairDispatch } from './dispatch';
import { RepairFieldWork } from './fieldwork';
import { RepairCallbacks } from './callbacks';
import { RepairEscalation } from './escalation';
import type { PhotoVerdict } from '../moderation';
import { RepairPromisesToResident } from './promises';
import { RepairHouseholds } from './households';
import { RepairNotices, type ForeignEscalation } from './notices';

export { STAFF_NOTICE_TOPIC, type RepairsOptions } from './core';
export type { BookedTicket } from './tickets';
export type { ColdFix, ComplainingHousehold } from './households';
export type { ForeignEscalation } from './notices';

type StaffListQuery = { page: number; pageSize: number; status?: RepairState; mine?: '1' | '0'; pool?: '1' | '0'; overdue?: '1' | '0'; dueSoon?: '1' | '0' };

export class RepairsService {
  /** watch list and SLA reports (read side) */
  readonly insights: RepairInsights;
  /** what the complaints module's watch program reads (households, cold fixes) */
  readonly households: RepairHouseholds;
  private readonly tickets: RepairTickets;
  private readonly dispatch: RepairDispatch;
  private readonly field: RepairFieldWork;
  private readonly cb: RepairCallbacks;
  private readonly sla: RepairEscalation;
  private readonly promises: RepairPromisesToResident;
  private readonly inbox: RepairNotices;

  constructor(private o: RepairsOptions) {
    this.insights = new RepairInsights(o);
    this.households = new RepairHouseholds(o.ds, this.insights);
    this.tickets = new RepairTickets(o);
    this.dispatch = new RepairDispatch(o);
    this.field = new RepairFieldWork(o);
    this.cb = new RepairCallbacks(o);
    this.sla = new RepairEscalation(o);
    this.promises = new RepairPromisesToResident(o);
    this.inbox = new RepairNotices(o);
  }

  private get ds() {
    return this.o.ds;
  }

  register(outbox: OutboxWorker): void {
    outbox.register(STAFF_NOTICE_TOPIC, async (p: { staffIds: number[]; ticketId: number; kind: string; text: string; key: string }) => {
      for (const staffId of p.staffIds) {
        try {
          await this.ds
            .getRepository(RepairStaffNotice)
            .insert({ staffId, ticketId: p.ticketId, kind: p.kind, text: p.text.slice(0, 200), dedupeKey: p.key, readAt: null });
        } catch (err) {
          if (!isUniqueViolation(err)) throw err;
        }
      }
    });
  }

  // ---- residents (tickets.ts) ----
  /** Staff book for a resident inside the caller's transaction (e.g. a 管家群 message → ticket). */
  bookForResident = (em: EntityManager, staff: StaffPrincipal, residentId: number, accountId: number, input: Omit<CreateRepairRequest, 'accountId'>) =>
    this.tickets.bookForResident(em, staff, residentId, accountId, input);
  create = (resident: ResidentPrincipal, input: CreateRepairRequest) => this.tickets.create(resident, input);
  /** WeChat found a ticket's photo risky (photo.checked, reactions.ts). */
  onPhotoVerdict = (ticketId: number, photo: string, verdict: PhotoVerdict) => this.tickets.onPhotoVerdict(ticketId, photo, verdict);
  /** the company's priced resident-side work (settings: repairs.priceList) */
  priceList = async () => (await this.o.company.rules()).repairs.priceList;
  /** the company's rules (categories and their clocks for the repair form) */
  rules = () => this.o.company.rules();
  listForResident = (residentId: number) => this.tickets.listForResident(residentId);
  viewForResident = (residentId: number, id: number) => this.tickets.viewForResident(residentId, id);
  cancelByResident = (resident: ResidentPrincipal, id: number) => this.tickets.cancelByResident(resident, id);
  consent = (resident: ResidentPrincipal, id: number, accept: boolean) => this.tickets.consent(resident, id, accept);
  rate = (resident: ResidentPrincipal, id: number, req: RateRepairRequest) => this.tickets.rate(resident, id, req);
  // ---- promises to the resident (promises.ts) ----
  urge = (resident: ResidentPrincipal, id: number) => this.promises.urge(resident, id);
  reschedule = (resident: ResidentPrincipal, id: number, req: z.output<typeof RescheduleRequest>) => this.promises.reschedule(resident, id, req);

  // ---- staff lists and dispatch (dispatch.ts) ----
  listForStaff = (staff: StaffPrincipal, q: StaffListQuery) => this.dispatch.listForStaff(staff, q);
  viewForStaff = (staff: StaffPrincipal, id: number) => this.dispatch.viewForStaff(staff, id);
  notices = (staff: StaffPrincipal) => this.dispatch.notices(staff);
  readNotices = (staff: StaffPrincipal, upToId?: number) => this.dispatch.readNotices(staff, upToId);
  assignees = (staff: StaffPrincipal, id: number) => this.dispatch.assignees(staff, id);
  assign = (staff: StaffPrincipal, id: number, staffId: number, reason?: string) => this.dispatch.assign(staff, id, staffId, reason);
  grab = (staff: StaffPrincipal, id: number) => this.dispatch.grab(staff, id);

  // ---- field work (fieldwork.ts) ----
  contact = (staff: StaffPrincipal, id: number) => this.field.contact(staff, id);
  arrive = (staff: StaffPrincipal, id: number) => this.field.arrive(staff, id);
  setSide = (staff: StaffPrincipal, id: number, req: z.output<typeof SideRequest>) => this.field.setSide(staff, id, req);
  resolve = (staff: StaffPrincipal, id: number, req: z.output<typeof ResolveRequest>) => this.field.resolve(staff, id, req);
  submitReport = (staff: StaffPrincipal, id: number, text: string) => this.field.submitReport(staff, id, text);

  // ---- callbacks (callbacks.ts) ----
  callbacks = (staff: StaffPrincipal) => this.cb.callbacks(staff);
  completeCallback = (staff: StaffPrincipal, callbackId: number, req: z.output<typeof CallbackDoneRequest>) => this.cb.completeCallback(staff, callbackId, req);

  /** Another ticket type's escalation (complaints) in the staff notices, inside the caller's transaction (notices.ts). */
  notifyEscalation = (em: EntityManager, e: ForeignEscalation, now: Date) => this.inbox.escalate(em, e, now);

  // ---- SLA (escalation.ts) ----
  escalateOverdue = (now?: Date) => this.sla.escalateOverdue(now);
  /** grab mode: tickets nobody grabbed within grabTimeoutMinutes are auto-assigned */
  dispatchUngrabbed = (now?: Date) => this.sla.dispatchUngrabbed(now);
  deadlineSummary = (p: StaffPrincipal, onlyMine: boolean) => this.sla.deadlineSummary(p, onlyMine);
  countBetween = (p: StaffPrincipal, column: 'createdAt' | 'closedAt', from: Date, to: Date, onlyMine: boolean) =>
    this.sla.countBetween(p, column, from, to, onlyMine);
}
