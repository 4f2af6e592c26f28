import { endpoint, FILE, json } from '../api/endpoint';
import {
  BillDateParams,
  DiscrepancyParams,
  DiscrepancyView,
  ReconDayDetail,
  ReconDaysQuery,
  ReconDayView,
  ReconExportQuery,
  ResolveDiscrepancyRequest,
  RunReconRequest,
} from '../api/reconciliation';
import type { z } from 'zod';

/** Daily reconciliation against WeChat Pay trade bills (finance runs and settles, admin reads). */
export const ReconciliationApi = {
  run: endpoint({ method: 'post', path: '/staff/reconciliation/runs', body: RunReconRequest, response: ReconDayDetail }),
  days: endpoint({ method: 'get', path: '/staff/reconciliation/days', query: ReconDaysQuery, response: json<{ items: z.output<typeof ReconDayView>[] }>() }),
  day: endpoint({ method: 'get', path: '/staff/reconciliation/days/:date', params: BillDateParams, response: ReconDayDetail }),
  /** a day (date) or a range (from..to) as XLSX */
  export: endpoint({ method: 'get', path: '/staff/reconciliation/export', query: ReconExportQuery, response: FILE }),
  /** the raw bill as WeChat sent it (CSV) */
  rawBill: endpoint({ method: 'get', path: '/staff/reconciliation/days/:date/bill', params: BillDateParams, response: FILE }),
  resolve: endpoint({
    method: 'post',
    path: '/staff/reconciliation/days/:date/discrepancies/:key/resolve',
    params: DiscrepancyParams,
    body: ResolveDiscrepancyRequest,
    response: json<{ discrepancy: z.output<typeof DiscrepancyView>; day: z.output<typeof ReconDayView> }>(),
  }),
};
