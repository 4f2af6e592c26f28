/** Invoice titles and e-invoices; finance's invoices of a day. */
import { InvoicesApi } from '@heat-butler/shared';
import { client } from './client';

export const invoicesApi = client(InvoicesApi);
