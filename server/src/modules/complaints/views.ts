import {
  COMPLAINT_SOURCE_LABEL,
  COMPLAINT_STATE_LABEL,
  isComplaintOverdue,
  minutesLeft,
  owedComplaintDeadline,
  type ComplaintView,
  type StaffComplaintView,
} from '@heat-butler/shared';
import type { Complaint } from './entities';
import type { ComplaintsOptions } from './service';

/** What residents and staff see of complaints: addresses, labels, the deadline owed now. */
export async function presentComplaints(o: ComplaintsOptions, rows: Complaint[], forStaff: boolean): Promise<ComplaintView[] | StaffComplaintView[]> {
  if (!rows.length) return [];
  const now = o.clock();
  const accounts = await o.accounts.accountsByIds([...new Set(rows.map((r) => r.accountId))]);
  const ctx = await o.accounts.addressContext(accounts);
  const byId = new Map(accounts.map((a) => [a.id, a]));
  const handlers = new Map(
    (await o.identity.staffByIds([...new Set(rows.map((r) => r.handlerId).filter((x): x is number => x !== null))])).map((s) => [s.id, s]),
  );
  return rows.map((c) => {
    const a = byId.get(c.accountId);
    const base: ComplaintView = {
      id: c.id,
      no: c.no,
      accountId: c.accountId,
      address: a ? ctx.address(a) : '',
      source: c.source,
      sourceLabel: COMPLAINT_SOURCE_LABEL[c.source],
      externalNo: c.externalNo,
      content: c.content,
      status: c.status,
      statusLabel: COMPLAINT_STATE_LABEL[c.status],
      closeDueAt: c.closeDueAt.toISOString(),
      extended: c.extended,
      resolution: c.resolution,
      resolvedAt: c.resolvedAt?.toISOString() ?? null,
      callbackDueAt: c.callbackDueAt?.toISOString() ?? null,
      closedAt: c.closedAt?.toISOString() ?? null,
      createdAt: c.createdAt.toISOString(),
    };
    if (!forStaff) return base;
    const owed = owedComplaintDeadline(c);
    const view: StaffComplaintView = {
      ...base,
      areaId: c.areaId,
      accountNo: a?.accountNo ?? '',
      contactPhone: c.contactPhone,
      handlerName: c.handlerId ? (handlers.get(c.handlerId)?.name ?? null) : null,
      escalationLevel: c.escalationLevel,
      agreementNote: c.agreementNote,
      callbackOutcome: c.callbackOutcome,
      overdue: isComplaintOverdue(c, now),
      minutesLeft: minutesLeft(owed?.dueAt ?? null, now),
    };
    return view;
  }) as ComplaintView[] | StaffComplaintView[];
}
