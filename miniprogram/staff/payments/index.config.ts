export default definePageConfig({ navigationBarTitleText: '支付与退费' });
