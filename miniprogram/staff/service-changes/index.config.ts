export default definePageConfig({ navigationBarTitleText: '报停复供审核' });
