export default definePageConfig({ navigationBarTitleText: '公司设置' });
