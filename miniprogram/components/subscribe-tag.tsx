import { useState } from 'react';
import Taro, { useDidShow } from '@tarojs/taro';
import { Text } from '@tarojs/components';
import type { SubscribeAsk, SubscribeTemplate } from '@heat-butler/shared';
import { askSubscribe, subscribeCounts } from '../services/subscribe';

/**
 * "接收…提醒" / "已订阅 N 次…提醒": one tap = one more message (WeChat's one-time grants), so the
 * label says how many the resident will still get, never a permanent "已设置".
 */
export function SubscribeTag(props: { ask: SubscribeAsk; template: SubscribeTemplate; label: string }) {
  const [left, setLeft] = useState<number | null>(null);
  useDidShow(() => void subscribeCounts().then((c) => c && setLeft(c[props.template])));
  const tap = async () => {
    const outcome = await askSubscribe(props.ask); // first thing in the tap
    if (outcome.counts) setLeft(outcome.counts[props.template]);
    Taro.showToast({ title: outcome.accepted.includes(props.template) ? `已订阅 1 次${props.label}` : `未订阅，将不会收到${props.label}`, icon: 'none' });
  };
  return (
    <Text className='tag' onClick={tap} data-subscribe={props.template} data-subscribe-left={left ?? 0}>
      {left ? `已订阅 ${left} 次${props.label}` : `接收${props.label}`}
    </Text>
  );
}
