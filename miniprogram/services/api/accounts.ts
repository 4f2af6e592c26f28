/** Heating accounts: bind, list, unbind; the company's public facts. */
import { AccountsApi, CompanyApi } from '@heat-butler/shared';
import { client } from './client';

export const accountsApi = client(AccountsApi);
export const companyApi = client(CompanyApi);
