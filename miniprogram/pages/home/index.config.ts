export default definePageConfig({ navigationBarTitleText: '供热管家' });
