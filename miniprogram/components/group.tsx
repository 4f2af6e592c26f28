import type { ReactNode } from 'react';
import Taro from '@tarojs/taro';
import { Image, Text, View } from '@tarojs/components';
import { chinaHm, chinaParts, type GroupMessageView } from '@heat-butler/shared';

/** "11-24 09:05" in China time (not the phone's zone). */
export const time = (iso: string) => {
  const d = chinaParts(iso);
  return `${d.month}-${d.day} ${chinaHm(iso)}`;
};

/** Oldest first for display; dedupe by id (the socket may repeat what a POST already returned). */
export function merge(list: GroupMessageView[], more: GroupMessageView[]): GroupMessageView[] {
  const byId = new Map(list.map((m) => [m.id, m]));
  for (const m of more) byId.set(m.id, { ...m, sender: { ...m.sender, mine: m.sender.mine || byId.get(m.id)?.sender.mine || false } });
  return [...byId.values()].sort((a, b) => a.id - b.id);
}

/** Upload URLs are relative to the BFF (same origin in H5). */
export const photoSrc = (url: string) => (url.startsWith('/') ? API_BASE : '') + url;

export function MessageBubble(props: { m: GroupMessageView; staff?: boolean; onLongPress?: () => void; extra?: ReactNode }) {
  const { m } = props;
  const cls = m.kind === 'announcement' ? 'msg msg-announcement' : m.sender.mine ? 'msg msg-mine' : m.sender.kind === 'staff' ? 'msg msg-staff' : 'msg';
  return (
    <View className={`${cls}${m.hidden ? ' msg-hidden' : ''}`} data-message-id={m.id} onLongPress={props.onLongPress}>
      <View className='msg-head'>
        <Text className='msg-sender'>{m.sender.label}</Text>
        {m.sender.role ? <Text className='tag tag-green'>{m.sender.role}</Text> : null}
        <Text className='muted'> {time(m.createdAt)}</Text>
        {m.hidden ? <Text className='tag tag-red'>已隐藏</Text> : null}
        {m.moderation === 'pending' ? (
          <Text className='tag' data-moderation='pending'>
            {props.staff ? '图片审核中' : '审核中，仅自己可见'}
          </Text>
        ) : null}
        {props.staff && m.moderation === 'flagged' ? (
          <Text className='tag tag-red' data-moderation='flagged'>
            内容安全待关注
          </Text>
        ) : null}
      </View>
      {m.quote ? (
        <View className='msg-quote'>
          {m.quote.label}：{m.quote.text ?? ''}
        </View>
      ) : null}
      {m.announcement ? <View className='msg-ann-type'>{m.announcement.typeLabel}</View> : null}
      {m.text ? <View className='msg-text'>{m.text}</View> : null}
      {m.imageUrl ? (
        <Image
          className='msg-image'
          src={photoSrc(m.imageUrl)}
          mode='widthFix'
          data-message-image
          onClick={() => Taro.previewImage({ urls: [photoSrc(m.imageUrl!)] }).catch(() => undefined)}
        />
      ) : null}
      {props.staff && m.repairTicketId ? <Text className='tag tag-grey'>已转报修工单</Text> : null}
      {m.link ? (
        <View className='msg-link' onClick={() => Taro.navigateTo({ url: m.link!.path }).catch(() => Taro.switchTab({ url: m.link!.path }))}>
          {m.link.title} ›
        </View>
      ) : null}
      {props.extra}
    </View>
  );
}
