import { z } from 'zod';
import { intId } from '../inputs';
import { STAFF_ROLES } from '../roles';

export const WechatLoginRequest = z.object({
  code: z.string().trim().min(1, '缺少微信登录凭证').max(128),
});
export type WechatLoginRequest = z.infer<typeof WechatLoginRequest>;

export const StaffLoginRequest = z.object({
  username: z.string().trim().min(1, '请输入用户名').max(64),
  password: z.string().min(1, '请输入密码').max(128),
});
export type StaffLoginRequest = z.infer<typeof StaffLoginRequest>;

/** A staff member binds their WeChat to their staff record with an admin's one-time invite code. */
export const StaffBindWechatRequest = z.object({
  code: z.string().trim().min(1).max(128),
  inviteCode: z
    .string()
    .trim()
    .regex(/^[A-Z0-9]{8}$/, '邀请码为8位字母或数字'),
});
export type StaffBindWechatRequest = z.infer<typeof StaffBindWechatRequest>;

export const LoginResponse = z.object({
  token: z.string(),
  expiresAt: z.string(),
  kind: z.enum(['resident', 'staff']),
});
export type LoginResponse = z.infer<typeof LoginResponse>;

export const StaffRoleSchema = z.enum(STAFF_ROLES);

export const MeResponse = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('resident'),
    id: z.number(),
    nickname: z.string().nullable(),
    bindingCount: z.number(),
  }),
  z.object({
    kind: z.literal('staff'),
    id: z.number(),
    name: z.string(),
    username: z.string(),
    roles: z.array(StaffRoleSchema),
    areaIds: z.array(z.number()),
  }),
]);
export type MeResponse = z.infer<typeof MeResponse>;

export const CreateInviteRequest = z.object({ staffId: intId() });
export const InviteResponse = z.object({ inviteCode: z.string(), expiresAt: z.string() });
export type InviteResponse = z.infer<typeof InviteResponse>;
