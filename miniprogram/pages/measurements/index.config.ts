export default definePageConfig({ navigationBarTitleText: '预约测温' });
