export default definePageConfig({ navigationBarTitleText: '维修回访' });
