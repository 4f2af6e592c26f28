export default definePageConfig({ navigationBarTitleText: '申请电子发票' });
