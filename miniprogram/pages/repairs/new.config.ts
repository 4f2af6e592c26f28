export default definePageConfig({ navigationBarTitleText: '在线报修' });
