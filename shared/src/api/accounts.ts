import { z } from 'zod';
import { ACCOUNT_NO_RE, ACCOUNT_STATUSES, ACCOUNT_USES, BINDING_RELATIONS, normalizeAccountNo } from '../account';

export const AccountNo = z.string().trim().transform(normalizeAccountNo).pipe(z.string().regex(ACCOUNT_NO_RE, '户号应为6-20位数字或字母'));

/**
 * Bind by account number plus one fact the company holds: the owner's name
 * or the last 4 digits of the contact phone. Exactly one of the two.
 */
export const BindRequest = z
  .object({
    accountNo: AccountNo,
    ownerName: z.string().trim().min(1, '请输入户主姓名').max(32).optional(),
    phoneLast4: z
      .string()
      .trim()
      .regex(/^\d{4}$/, '请输入手机号后4位数字')
      .optional(),
    relation: z.enum(BINDING_RELATIONS).default('owner'),
  })
  .superRefine((v, ctx) => {
    if (!v.ownerName && !v.phoneLast4) {
      ctx.addIssue({ code: 'custom', path: ['ownerName'], message: '请填写户主姓名或手机号后4位' });
    }
  });
export type BindRequest = z.input<typeof BindRequest>;

/** An account as its bound resident sees it: contact phone masked. */
export const BoundAccount = z.object({
  bindingId: z.number(),
  accountId: z.number(),
  accountNo: z.string(),
  relation: z.enum(BINDING_RELATIONS),
  address: z.string(),
  areaName: z.string(),
  buildingId: z.number(),
  buildingName: z.string(),
  ownerNameMasked: z.string(),
  phoneMasked: z.string(),
  heatedArea: z.number().describe('hundredths of m²'),
  use: z.enum(ACCOUNT_USES),
  status: z.enum(ACCOUNT_STATUSES),
  boundAt: z.string(),
});
export type BoundAccount = z.infer<typeof BoundAccount>;

export const BoundAccountList = z.object({ items: z.array(BoundAccount), max: z.number() });
export type BoundAccountList = z.infer<typeof BoundAccountList>;
