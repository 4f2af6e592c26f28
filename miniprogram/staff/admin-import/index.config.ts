export default definePageConfig({ navigationBarTitleText: '住户导入' });
