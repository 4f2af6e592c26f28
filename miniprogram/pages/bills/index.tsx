import { View } from '@tarojs/components';
import { ComingSoon } from '../../components/ui';

export default function Bills() {
  return (
    <View className='page'>
      <ComingSoon title='账单与缴费' text='采暖季账单、在线缴费和缴费记录即将上线。' />
    </View>
  );
}
