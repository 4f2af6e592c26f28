import { useState } from 'react';
import { Image, Text, View } from '@tarojs/components';
import { moderationApi } from '../services/api/platform';
import { useData } from '../services/use-data';
import { photoSrc, time } from './group';
import { LoadError, Segmented } from './ui';

/** 内容审核记录: what residents posted and WeChat's content-security verdict (who, what, verdict, when). */
export function ModerationTrail() {
  const [flagged, setFlagged] = useState<'1' | '0'>('1');
  const trail = useData(() => moderationApi.list({ flagged, pageSize: 50 }, { quiet: true }), [flagged]);
  const page = trail.data;
  return (
    <View className='card moderation-trail'>
      <Segmented<'1' | '0'>
        options={[
          { value: '1', label: '需关注' },
          { value: '0', label: '全部记录' },
        ]}
        value={flagged}
        onChange={setFlagged}
      />
      <LoadError error={trail.error} onRetry={trail.reload} />
      {page && !page.items.length ? <View className='muted'>暂无记录</View> : null}
      {page?.items.map((i) => (
        <View className='list-item' key={i.id} data-moderation-id={i.id} data-verdict={i.verdict}>
          <View className='row'>
            <Text>
              {i.residentLabel} · {i.subjectLabel}
            </Text>
            <Text className={i.verdict === 'risky' ? 'tag tag-red' : i.verdict === 'pass' ? 'tag tag-green' : 'tag'}>{i.verdictLabel}</Text>
          </View>
          {i.kind === 'image' ? <Image className='msg-image' src={photoSrc(i.content)} mode='widthFix' /> : <View className='msg-text'>{i.content}</View>}
          <View className='muted'>
            {time(i.createdAt)}
            {i.decidedAt && i.decidedAt !== i.createdAt ? ` · 判定于 ${time(i.decidedAt)}` : ''}
            {i.detail ? ` · ${i.detail}` : ''}
          </View>
        </View>
      ))}
    </View>
  );
}
