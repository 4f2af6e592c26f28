export default definePageConfig({ navigationBarTitleText: '标准话术库' });
