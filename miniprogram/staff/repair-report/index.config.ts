export default definePageConfig({ navigationBarTitleText: '报修服务统计' });
