export default definePageConfig({ navigationBarTitleText: '管家群收件箱' });
