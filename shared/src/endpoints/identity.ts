import { z } from 'zod';
import { endpoint, json, NONE } from '../api/endpoint';
import { CreateInviteRequest, InviteResponse, LoginResponse, MeResponse, StaffBindWechatRequest, StaffLoginRequest, WechatLoginRequest } from '../api/identity';
import { BindRequest, BoundAccount, BoundAccountList } from '../api/accounts';
import { CompanyInfo } from '../company';
import type { AccountStatus, AccountUse } from '../account';
import { IdParam, PageQuery, type Page } from '../api/common';

/** Logging in and out, who am I. */
export const IdentityApi = {
  wechatLogin: endpoint({ method: 'post', path: '/auth/wechat', body: WechatLoginRequest, response: LoginResponse }),
  staffLogin: endpoint({ method: 'post', path: '/auth/staff/login', body: StaffLoginRequest, response: LoginResponse }),
  staffWechatLogin: endpoint({ method: 'post', path: '/auth/staff/wechat', body: WechatLoginRequest, response: LoginResponse }),
  staffBindWechat: endpoint({ method: 'post', path: '/auth/staff/bind-wechat', body: StaffBindWechatRequest, response: LoginResponse }),
  logout: endpoint({ method: 'post', path: '/auth/logout', response: NONE }),
  me: endpoint({ method: 'get', path: '/me', response: MeResponse }),
  createInvite: endpoint({ method: 'post', path: '/staff/invites', body: CreateInviteRequest, status: 201, response: InviteResponse }),
};

export const AccountIdParams = z.object({ accountId: IdParam });
export const StaffAccountsQuery = PageQuery.extend({ q: z.string().trim().max(32).optional() });

/** A household as staff of its area see it in a search. */
export interface StaffAccountRow {
  id: number;
  accountNo: string;
  address: string;
  areaName: string;
  ownerName: string;
  phoneMasked: string;
  heatedArea: number;
  use: AccountUse;
  status: AccountStatus;
}

/** Binding heating accounts; staff's household search. */
export const AccountsApi = {
  list: endpoint({ method: 'get', path: '/accounts', response: BoundAccountList }),
  bind: endpoint({ method: 'post', path: '/accounts/bind', body: BindRequest, status: 201, response: BoundAccount }),
  get: endpoint({ method: 'get', path: '/accounts/:accountId', params: AccountIdParams, response: BoundAccount }),
  unbind: endpoint({ method: 'delete', path: '/accounts/:accountId/binding', params: AccountIdParams, response: NONE }),
  staffSearch: endpoint({ method: 'get', path: '/staff/accounts', query: StaffAccountsQuery, response: json<Page<StaffAccountRow>>() }),
};

/** The company's public facts (name, hotline). */
export const CompanyApi = {
  info: endpoint({ method: 'get', path: '/company', response: CompanyInfo }),
};
