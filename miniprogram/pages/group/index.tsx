import { View } from '@tarojs/components';
import { ComingSoon } from '../../components/ui';

export default function Group() {
  return (
    <View className='page'>
      <ComingSoon title='楼栋供热管家群' text='绑定户号后自动加入本楼栋的管家群，停热、注水通知第一时间送达。即将上线。' />
    </View>
  );
}
