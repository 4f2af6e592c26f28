export default definePageConfig({ navigationBarTitleText: '重点关注名单' });
