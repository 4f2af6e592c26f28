export default definePageConfig({ navigationBarTitleText: '员工与片区' });
