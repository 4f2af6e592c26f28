import { z } from 'zod';
import { endpoint, FILE, json } from '../api/endpoint';
import { IdParams, type Page } from '../api/common';
import {
  CompleteValveOrder,
  RejectServiceChange,
  ResubmitServiceChange,
  ServiceChangeListQuery,
  ServiceChangePreview,
  ServiceChangePreviewQuery,
  ServiceChangeView,
  StaffSubmitServiceChange,
  SubmitServiceChange,
  ValveOrderListQuery,
  ValveOrderView,
} from '../api/service-changes';
import type { ServiceChangeWindows } from '../service-changes';

type ServiceChange = z.output<typeof ServiceChangeView>;
type ValveOrder = z.output<typeof ValveOrderView>;

/** 报停/复供: applications (residents), review and valve work orders (staff). */
export const ServiceChangesApi = {
  /** which seasons are open for applications; when none, when the next window opens and the hotline */
  windows: endpoint({ method: 'get', path: '/service-changes/windows', response: json<ServiceChangeWindows>() }),
  preview: endpoint({ method: 'get', path: '/service-changes/preview', query: ServiceChangePreviewQuery, response: ServiceChangePreview }),
  list: endpoint({ method: 'get', path: '/service-changes', response: json<{ items: ServiceChange[] }>() }),
  submit: endpoint({ method: 'post', path: '/service-changes', body: SubmitServiceChange, status: 201, response: ServiceChangeView }),
  get: endpoint({ method: 'get', path: '/service-changes/:id', params: IdParams, response: ServiceChangeView }),
  resubmit: endpoint({ method: 'post', path: '/service-changes/:id/resubmit', params: IdParams, body: ResubmitServiceChange, response: ServiceChangeView }),
  cancel: endpoint({ method: 'post', path: '/service-changes/:id/cancel', params: IdParams, response: ServiceChangeView }),

  staffPreview: endpoint({ method: 'get', path: '/staff/service-changes/preview', query: ServiceChangePreviewQuery, response: ServiceChangePreview }),
  staffList: endpoint({ method: 'get', path: '/staff/service-changes', query: ServiceChangeListQuery, response: json<Page<ServiceChange>>() }),
  staffExport: endpoint({ method: 'get', path: '/staff/service-changes/export', query: ServiceChangeListQuery, response: FILE }),
  staffGet: endpoint({ method: 'get', path: '/staff/service-changes/:id', params: IdParams, response: ServiceChangeView }),
  staffSubmit: endpoint({ method: 'post', path: '/staff/service-changes', body: StaffSubmitServiceChange, status: 201, response: ServiceChangeView }),
  review: endpoint({ method: 'post', path: '/staff/service-changes/:id/review', params: IdParams, response: ServiceChangeView }),
  approve: endpoint({ method: 'post', path: '/staff/service-changes/:id/approve', params: IdParams, response: ServiceChangeView }),
  reject: endpoint({ method: 'post', path: '/staff/service-changes/:id/reject', params: IdParams, body: RejectServiceChange, response: ServiceChangeView }),
  staffCancel: endpoint({ method: 'post', path: '/staff/service-changes/:id/cancel', params: IdParams, response: ServiceChangeView }),

  valveOrders: endpoint({ method: 'get', path: '/staff/valve-orders', query: ValveOrderListQuery, response: json<{ items: ValveOrder[] }>() }),
  valveOrderDone: endpoint({ method: 'post', path: '/staff/valve-orders/:id/done', params: IdParams, body: CompleteValveOrder, response: ValveOrderView }),
};
