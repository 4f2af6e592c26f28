export default definePageConfig({ navigationBarTitleText: '采暖季与出账' });
