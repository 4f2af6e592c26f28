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
    'pages/pay/sandbox',
  ],
  subPackages: [
    {
      root: 'staff',
      pages: ['login/index', 'home/index'],
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
});
