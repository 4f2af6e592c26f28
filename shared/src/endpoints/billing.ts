import { z } from 'zod';
import { endpoint, json } from '../api/endpoint';
import {
  BillList,
  BillView,
  CreatePaymentRequest,
  IssueBillsQuery,
  PayAllRequest,
  PaymentList,
  PaymentOrderView,
  RefundRequest,
  RefundView,
  SeasonView,
  type SeasonBillsStatus,
} from '../api/billing';
import { IdParam, PageQuery, type Page } from '../api/common';
import { SeasonInput } from '../billing';
import { seasonCode } from '../inputs';
import { ORDER_STATES } from '../billing';

export const BillIdParams = z.object({ billId: IdParam });
export const SeasonCodeParams = z.object({ code: seasonCode() });

/** Bills (residents) and seasons with their tariffs (admin, finance). */
export const BillingApi = {
  bills: endpoint({ method: 'get', path: '/bills', response: BillList }),
  bill: endpoint({ method: 'get', path: '/bills/:billId', params: BillIdParams, response: BillView }),
  /**
   * Every season, newest first; `baseFeeRatioBp` is the company's setting a new season takes when
   * created without its own ratio; `current` the season being billed now (null when none exists).
   */
  seasons: endpoint({ method: 'get', path: '/staff/seasons', response: json<{ items: SeasonView[]; baseFeeRatioBp: number; current: string | null }>() }),
  createSeason: endpoint({ method: 'post', path: '/staff/seasons', body: SeasonInput, status: 201, response: SeasonView }),
  updateSeason: endpoint({ method: 'put', path: '/staff/seasons/:code', params: SeasonCodeParams, body: SeasonInput, response: SeasonView }),
  /** 出账 preview: how many households get which bill, how many are skipped and why */
  seasonBills: endpoint({ method: 'get', path: '/staff/seasons/:code/bills', params: SeasonCodeParams, response: json<SeasonBillsStatus>() }),
  /** 出账: issue the season's bill to households without one (at most `batch` per call; re-runnable, never twice) */
  issueBills: endpoint({
    method: 'post',
    path: '/staff/seasons/:code/bills',
    params: SeasonCodeParams,
    query: IssueBillsQuery,
    response: json<SeasonBillsStatus>(),
  }),
};

export const OrderIdParams = z.object({ orderId: IdParam });
export const StaffPaymentsQuery = PageQuery.extend({ status: z.enum(ORDER_STATES).optional(), no: z.string().trim().max(64).optional() });

/** Something WeChat Pay told us that could not be applied (amount mismatch, unknown order). */
export interface PaymentAnomalyView {
  id: number;
  kind: 'amount_mismatch' | 'merchant_mismatch' | 'unknown_order' | 'unknown_refund';
  key: string;
  outTradeNo: string;
  detail: Record<string, unknown>;
  resolved: boolean;
  createdAt: string;
}

/** WeChat Pay orders (residents) and refunds (finance). */
export const PaymentsApi = {
  create: endpoint({ method: 'post', path: '/payments', body: CreatePaymentRequest, status: 201, response: PaymentOrderView }),
  /** 一键缴清: one order for every unpaid bill of an account, oldest first */
  payAll: endpoint({ method: 'post', path: '/payments/pay-all', body: PayAllRequest, status: 201, response: PaymentOrderView }),
  list: endpoint({ method: 'get', path: '/payments', response: PaymentList }),
  get: endpoint({ method: 'get', path: '/payments/:orderId', params: OrderIdParams, response: PaymentOrderView }),
  confirm: endpoint({ method: 'post', path: '/payments/:orderId/confirm', params: OrderIdParams, response: PaymentOrderView }),
  staffList: endpoint({ method: 'get', path: '/staff/payments', query: StaffPaymentsQuery, response: json<Page<PaymentOrderView>>() }),
  refund: endpoint({ method: 'post', path: '/staff/payments/:orderId/refunds', params: OrderIdParams, body: RefundRequest, status: 201, response: RefundView }),
  anomalies: endpoint({ method: 'get', path: '/staff/payment-anomalies', response: json<{ items: PaymentAnomalyView[] }>() }),
};
