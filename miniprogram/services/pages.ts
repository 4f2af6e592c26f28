/**
 * Every page's path, in one place: navigation goes through these constants (and `pageUrl` for a
 * query string), never through a literal path in a page. app.config.ts lists the same pages
 * (e2e/no-literal-paths.test.ts checks both agree).
 */
import Taro from '@tarojs/taro';

export const PAGES = {
  // tabs
  home: '/pages/home/index',
  bills: '/pages/bills/index',
  services: '/pages/services/index',
  group: '/pages/group/index',
  mine: '/pages/mine/index',
  // residents
  login: '/pages/login/index',
  bind: '/pages/bind/index',
  accounts: '/pages/accounts/index',
  privacy: '/pages/privacy/index',
  billDetail: '/pages/bills/detail',
  payments: '/pages/payments/index',
  paymentDetail: '/pages/payments/detail',
  paySandbox: '/pages/pay/sandbox',
  invoices: '/pages/invoices/index',
  invoiceRequest: '/pages/invoices/request',
  serviceChange: '/pages/services/change',
  serviceDetail: '/pages/services/detail',
  repairs: '/pages/repairs/index',
  repairNew: '/pages/repairs/new',
  repairDetail: '/pages/repairs/detail',
  measurements: '/pages/measurements/index',
  complaints: '/pages/complaints/index',
  complaintNew: '/pages/complaints/new',
  complaintDetail: '/pages/complaints/detail',
  // staff (subpackage)
  staffLogin: '/staff/login/index',
  staffHome: '/staff/home/index',
  staffServiceChanges: '/staff/service-changes/index',
  staffValveOrders: '/staff/valve-orders/index',
  staffRepairs: '/staff/repairs/index',
  staffRepairWatch: '/staff/repair-watch/index',
  staffRepairReport: '/staff/repair-report/index',
  staffMeasurements: '/staff/measurements/index',
  staffCallbacks: '/staff/callbacks/index',
  staffInbox: '/staff/inbox/index',
  staffAnnounce: '/staff/announce/index',
  staffReconciliation: '/staff/reconciliation/index',
  staffPayments: '/staff/payments/index',
  staffInvoices: '/staff/invoices/index',
  staffAdminImport: '/staff/admin-import/index',
  staffAdminSettings: '/staff/admin-settings/index',
  staffAdminStaff: '/staff/admin-staff/index',
  staffCanned: '/staff/canned/index',
  staffComplaints: '/staff/complaints/index',
  staffWatchTasks: '/staff/watch-tasks/index',
  staffSeasons: '/staff/seasons/index',
} as const;

export type PagePath = (typeof PAGES)[keyof typeof PAGES];
/** The tab bar's pages (only these can be switched to, only these never navigated to). */
export type TabPage = typeof PAGES.home | typeof PAGES.bills | typeof PAGES.services | typeof PAGES.group | typeof PAGES.mine;

/** A page's URL with its query: pageUrl(PAGES.billDetail, { id: 7 }) → '/pages/bills/detail?id=7'. */
export function pageUrl(page: PagePath, query?: Record<string, string | number | undefined>): string {
  const q = query
    ? Object.entries(query)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`)
        .join('&')
    : '';
  return q ? `${page}?${q}` : page;
}

type Query = Record<string, string | number | undefined>;

/** Navigation by page constant. */
export const nav = {
  to: (page: Exclude<PagePath, TabPage>, query?: Query) => Taro.navigateTo({ url: pageUrl(page, query) }),
  redirect: (page: Exclude<PagePath, TabPage>, query?: Query) => Taro.redirectTo({ url: pageUrl(page, query) }),
  relaunch: (page: PagePath, query?: Query) => Taro.reLaunch({ url: pageUrl(page, query) }),
  tab: (page: TabPage) => Taro.switchTab({ url: page }),
};
