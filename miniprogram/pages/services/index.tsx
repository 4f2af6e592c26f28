import { View } from '@tarojs/components';
import { ComingSoon } from '../../components/ui';

export default function Services() {
  return (
    <View className='page'>
      <ComingSoon title='报停 / 复供' text='下一采暖季的报停、复供申请须在9月20日前提交。在线办理即将上线。' />
      <ComingSoon title='报修' text='室温不达标、跑冒滴漏、暖气不热、阀门问题，在线报修即将上线。' />
      <ComingSoon title='室温测量' text='预约上门测温（每日 06:00–08:00、16:00–20:00）即将上线。' />
      <ComingSoon title='电子发票' text='缴费后在线开具电子发票即将上线。' />
    </View>
  );
}
