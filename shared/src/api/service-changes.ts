import { z } from 'zod';
import { idParam, int32, intId, isoInstant, seasonCode } from '../inputs';
import { PhotoRef } from './repairs';
import { BINDING_RELATIONS } from '../account';
import { SERVICE_CHANGE_KINDS, SERVICE_CHANGE_STATES, VALVE_ACTIONS, VALVE_ORDER_STATES } from '../service-changes';

const SeasonCode = seasonCode();

/** A document photo: its kind (id_photo, …) and the upload id from POST /uploads. */
export const ServiceChangeDocument = z.object({
  kind: z.string().trim().min(1, '请选择材料类型').max(32),
  url: PhotoRef,
});
export type ServiceChangeDocument = z.infer<typeof ServiceChangeDocument>;

/** A document as a viewer sees it: the photo only for the applicant and the area's reviewers. */
export const ServiceChangeDocumentView = z.object({
  kind: z.string(),
  label: z.string(),
  /** the upload id, for the applicant (to send it again when fixing the application) */
  id: z.string().nullable(),
  /** a short-lived signed link to the photo; null when the viewer may not see it */
  url: z.string().nullable(),
});
export type ServiceChangeDocumentView = z.infer<typeof ServiceChangeDocumentView>;

export const ServiceChangePreviewQuery = z.object({
  accountId: idParam(),
  season: SeasonCode,
  kind: z.enum(SERVICE_CHANGE_KINDS),
});

export const SubmitServiceChange = z.object({
  accountId: intId(),
  season: SeasonCode,
  kind: z.enum(SERVICE_CHANGE_KINDS),
  documents: z.array(ServiceChangeDocument).max(10).default([]),
  note: z.string().trim().max(200).optional(),
});
export type SubmitServiceChange = z.input<typeof SubmitServiceChange>;

export const ResubmitServiceChange = z.object({
  documents: z.array(ServiceChangeDocument).max(10),
  note: z.string().trim().max(200).optional(),
});

/** Staff files an application at the counter; an admin may accept it late with a reason. */
export const StaffSubmitServiceChange = SubmitServiceChange.extend({
  lateReason: z.string().trim().min(4, '请填写逾期受理原因（至少4个字）').max(200).optional(),
});

export const ReviewProblem = z.object({
  /** the document kind concerned, if any */
  document: z.string().max(32).optional(),
  message: z.string().trim().min(2, '请写明问题').max(100),
});
export type ReviewProblem = z.infer<typeof ReviewProblem>;

export const RejectServiceChange = z.object({
  problems: z.array(ReviewProblem).min(1, '请至少列出一个问题').max(20),
});

export const ServiceChangeListQuery = z.object({
  page: int32({ min: 1, max: 100_000, coerce: true }).default(1),
  pageSize: int32({ min: 1, max: 100, coerce: true }).default(20),
  state: z.enum(SERVICE_CHANGE_STATES).optional(),
  season: SeasonCode.optional(),
  kind: z.enum(SERVICE_CHANGE_KINDS).optional(),
  buildingId: idParam().optional(),
  areaId: idParam().optional(),
});

export const ValveOrderListQuery = z.object({
  state: z.enum(VALVE_ORDER_STATES).optional(),
  season: SeasonCode.optional(),
});

export const CompleteValveOrder = z.object({
  /** what was done: for a stop 'close' or 'seal'; for a resume 'open' (defaults to the order's action) */
  action: z.enum(VALVE_ACTIONS).optional(),
  photoUrl: PhotoRef,
  note: z.string().trim().max(200).optional(),
  /** when the valve was worked, if not now */
  doneAt: isoInstant('请填写正确的完成时间').optional(),
});

export const TimelineEntry = z.object({
  state: z.string(),
  label: z.string(),
  at: z.string(),
  by: z.enum(['resident', 'staff', 'system']),
  reason: z.string().nullable(),
  data: z.record(z.string(), z.unknown()).nullable(),
});

export const ValveOrderView = z.object({
  id: z.number(),
  applicationId: z.number(),
  accountNo: z.string(),
  address: z.string(),
  substation: z.string().nullable(),
  action: z.enum(VALVE_ACTIONS),
  actionLabel: z.string(),
  state: z.enum(VALVE_ORDER_STATES),
  stateLabel: z.string(),
  dueDate: z.string(),
  doneAt: z.string().nullable(),
  photoUrl: z.string().nullable(),
  note: z.string().nullable(),
});
export type ValveOrderView = z.infer<typeof ValveOrderView>;

export const ServiceChangeView = z.object({
  id: z.number(),
  kind: z.enum(SERVICE_CHANGE_KINDS),
  kindLabel: z.string(),
  accountId: z.number(),
  accountNo: z.string(),
  address: z.string(),
  season: z.string(),
  seasonLabel: z.string(),
  state: z.enum(SERVICE_CHANGE_STATES),
  stateLabel: z.string(),
  documents: z.array(ServiceChangeDocumentView),
  problems: z.array(ReviewProblem),
  note: z.string().nullable(),
  late: z.boolean(),
  lateReason: z.string().nullable(),
  billId: z.number().nullable(),
  /** resume: what is left to pay before the valve is opened */
  dueFen: z.number().int(),
  /** stop on a bill already paid in full: the difference owed back to the resident */
  refundDueFen: z.number().int(),
  cancellable: z.boolean(),
  workOrder: ValveOrderView.nullable(),
  timeline: z.array(TimelineEntry),
  createdAt: z.string(),
  /**
   * For staff only (null for residents): what a reviewer checks the ID photo against — the
   * owner's name on the account, and who applied (a resident with their relation to the
   * account, or staff filing for them).
   */
  review: z
    .object({
      ownerName: z.string(),
      applicant: z.object({
        kind: z.enum(['resident', 'staff']),
        relation: z.enum(BINDING_RELATIONS).nullable(),
        /** 户主本人 / 家属 / 租户 / 员工代办 */
        label: z.string(),
        /** the resident has unbound the account since applying */
        unbound: z.boolean(),
      }),
    })
    .nullable(),
});
export type ServiceChangeView = z.infer<typeof ServiceChangeView>;

/** What the resident sees before applying: rules, fee effect, documents, whether it can be filed. */
export const ServiceChangePreview = z.object({
  kind: z.enum(SERVICE_CHANGE_KINDS),
  accountId: z.number(),
  accountNo: z.string(),
  accountStatus: z.string(),
  season: z.string(),
  seasonLabel: z.string(),
  deadline: z.string(),
  open: z.boolean(),
  nextSeason: z.string(),
  rules: z.array(z.string()),
  requiredDocuments: z.array(z.object({ kind: z.string(), label: z.string() })),
  fee: z.object({
    fullFen: z.number().int(),
    baseFen: z.number().int(),
    /** what the season's bill becomes */
    newChargeFen: z.number().int(),
    paidFen: z.number().int(),
    /** resume: to pay before the valve opens; stop: what is left to pay on the base fee */
    dueFen: z.number().int(),
    refundDueFen: z.number().int(),
    text: z.string(),
  }),
  arrears: z.object({ totalFen: z.number().int(), bills: z.array(z.object({ billId: z.number(), season: z.string(), dueFen: z.number().int() })) }),
  /** every reason it cannot be filed now (empty = it can) */
  problems: z.array(z.string()),
});
export type ServiceChangePreview = z.infer<typeof ServiceChangePreview>;
