import { Text, View } from '@tarojs/components';
import { NOT_COLLECTED, PRIVACY_ITEMS } from '@heat-butler/shared';

/**
 * 隐私说明. What is collected comes from the one shared list (PRIVACY_ITEMS), the same one the
 * company declares to WeChat; a test checks it against what the code really collects.
 */
const BEFORE: [string, string][] = [['我们是谁', '供热管家由您所在地的供热公司提供，用于热费缴纳、电子发票、报停复供、报修和供热服务沟通。']];
const AFTER: [string, string][] = [
  ['我们不收集什么', NOT_COLLECTED],
  [
    '谁能看到',
    '只有您本人能看到您绑定的户号信息。公司员工只能查看其负责片区的户号；在管家群中您的姓名和手机号会被遮盖（如 王**、138****1234）；证件材料仅审核员工可见。',
  ],
  [
    '第三方',
    '缴费通过微信支付完成；电子发票由税务电子发票服务商开具；您在管家群等处发布的文字和照片会提交微信内容安全服务检测。我们只向其提供完成该业务所必需的信息。',
  ],
  ['您的权利', '您可以随时解除户号绑定、删除发票抬头、退出登录，或拨打客服热线查询、更正、删除您的个人信息。'],
];

const Section = ({ title, text }: { title: string; text: string }) => (
  <View className='card'>
    <View className='card-title'>{title}</View>
    <View className='muted' style={{ fontSize: '26px', color: '#5c5650' }}>
      {text}
    </View>
  </View>
);

export default function Privacy() {
  return (
    <View className='page'>
      {BEFORE.map(([t, x]) => (
        <Section key={t} title={t} text={x} />
      ))}
      <View className='card'>
        <View className='card-title'>我们收集什么、为什么</View>
        {PRIVACY_ITEMS.map((i) => (
          <View className='list-item' key={i.key} data-privacy-item={i.key}>
            <View className='strong'>{i.what}</View>
            <View className='muted'>用途：{i.purpose}</View>
            <Text className='muted'>保存：{i.keptFor}</Text>
          </View>
        ))}
      </View>
      {AFTER.map(([t, x]) => (
        <Section key={t} title={t} text={x} />
      ))}
    </View>
  );
}
