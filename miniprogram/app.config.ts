// The sandbox payment sheet stands in for WeChat's in the browser build only: never in the WeChat app.
const browserOnlyPages = process.env.TARO_ENV === 'h5' ? ['pages/pay/sandbox'] : [];

export default defineAppConfig({
  pages: [
    'pages/home/index',
    'pages/bills/index',
    'pages/services/index',
    'pages/group/index',
    'pages/mine/index',
    'pages/login/index',
    'pages/bind/index',
    'pages/accounts/index',
    'pages/privacy/index',
    'pages/bills/detail',
    'pages/payments/index',
    'pages/payments/detail',
    ...browserOnlyPages,
    'pages/invoices/index',
    'pages/invoices/request',
    'pages/services/change',
    'pages/services/detail',
    'pages/repairs/index',
    'pages/repairs/new',
    'pages/repairs/detail',
    'pages/measurements/index',
  ],
  subPackages: [
    {
      root: 'staff',
      pages: ['login/index', 'home/index', 'service-changes/index', 'valve-orders/index', 'repairs/index', 'repair-watch/index', 'repair-report/index', 'measurements/index', 'callbacks/index', 'inbox/index', 'announce/index', 'reconciliation/index', 'payments/index', 'invoices/index', 'admin-import/index', 'admin-settings/index', 'admin-staff/index', 'canned/index'],
    },
  ],
  window: {
    backgroundTextStyle: 'light',
    navigationBarBackgroundColor: '#e8590c',
    navigationBarTitleText: '供热管家',
    navigationBarTextStyle: 'white',
    backgroundColor: '#f6f4f2',
  },
  tabBar: {
    color: '#8a8580',
    selectedColor: '#e8590c',
    backgroundColor: '#ffffff',
    borderStyle: 'white',
    list: [
      { pagePath: 'pages/home/index', text: '首页' },
      { pagePath: 'pages/bills/index', text: '账单' },
      { pagePath: 'pages/services/index', text: '服务' },
      { pagePath: 'pages/group/index', text: '管家群' },
      { pagePath: 'pages/mine/index', text: '我的' },
    ],
  },
  __usePrivacyCheck__: true,
  // inject only the components a page uses when it loads (WeChat's code-quality check)
  lazyCodeLoading: 'requiredComponents',
  // keeps the staff pages out of WeChat search (sitemap.json, copied from miniprogram/)
  sitemapLocation: 'sitemap.json',
});
