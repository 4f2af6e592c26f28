export default definePageConfig({ navigationBarTitleText: '走访复测与隐患台账' });
