export default definePageConfig({ navigationBarTitleText: '测温工单' });
