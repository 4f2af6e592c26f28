/** Bills, seasons, WeChat Pay orders and refunds. */
import { BillingApi, PaymentsApi } from '@heat-butler/shared';
import { client } from './client';

export const billingApi = client(BillingApi);
export const paymentsApi = client(PaymentsApi);
