export default definePageConfig({ navigationBarTitleText: '阀门工单' });
