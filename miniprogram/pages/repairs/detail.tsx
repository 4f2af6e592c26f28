import { useState } from 'react';
import Taro, { useRouter } from '@tarojs/taro';
import { Image, Text, Textarea, View } from '@tarojs/components';
import { formatFen, type RepairView } from '@heat-butler/shared';
import { photoSrc } from '../../services/photo';
import { ApiError } from '../../services/api';
import { repairsApi } from '../../services/api/repairs';
import { useData } from '../../services/use-data';
import { LoadError } from '../../components/ui';
import { askSubscribe } from '../../services/subscribe';
import { SubscribeTag } from '../../components/subscribe-tag';
import { RepairClock } from '../../components/repair-clock';
import { RepairTitle } from '../../components/repair-title';
import { Timeline } from '../../components/timeline';
import { companyApi } from '../../services/api/accounts';

/** 报修详情: status, promise, timeline; consent to a price; rate 1–5 after the work is done. */
export default function RepairDetail() {
  const { params } = useRouter();
  const [stars, setStars] = useState(5);
  const [comment, setComment] = useState('');
  const ticket = useData(() => repairsApi.get({ id: params.id! }), [], { onShow: true });
  // the 24 h hotline offered once a deadline has passed
  const company = useData(() => companyApi.info({ quiet: true, anonymous: true }), []);
  const t = ticket.data;
  const id = { id: params.id! };
  const act = async (run: () => Promise<RepairView>) => {
    try {
      ticket.setData(await run());
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
    }
  };
  const consent = (accept: boolean) => {
    // the resident acts on the ticket: ask for its next progress message (in the tap, before any await)
    void askSubscribe('repair');
    return act(() => repairsApi.consent(id, { accept }));
  };
  if (!t)
    return (
      <View className='page'>
        <LoadError error={ticket.error} onRetry={ticket.reload} />
      </View>
    );
  return (
    <View className='page'>
      <View className='card' data-repair-status={t.status}>
        <RepairTitle t={t} />
        <View className='muted'>单号 {t.no}</View>
        {!['closed', 'cancelled'].includes(t.status) ? <SubscribeTag ask='repair' template='repairProgress' label='报修进度提醒' /> : null}
        <View className='muted'>{t.address}</View>
        {t.promise ? <View className='repair-promise'>{t.promise}</View> : null}
        {t.assigneeName ? <View className='muted'>维修人员：{t.assigneeName}</View> : null}
        <View className='repair-desc'>{t.description}</View>
        <View className='repair-photos'>
          {t.photos.map((u) => (
            <Image key={u} className='repair-photo' src={photoSrc(u)} mode='aspectFill' />
          ))}
        </View>
      </View>
      {t.deadlines.length ? <RepairClock t={t} hotline={company.data?.hotline ?? null} onChange={ticket.setData} /> : null}
      {t.status === 'awaiting_consent' && t.priceItems ? (
        <View className='card' data-consent>
          <View className='card-title'>有偿维修费用确认</View>
          <View className='muted'>经师傅确认，问题属于您家自有设施，维修需收费：</View>
          {t.priceItems.map((i) => (
            <View className='list-item row' key={i.code}>
              <Text>
                {i.name} × {i.qty}
              </Text>
              <Text>{formatFen(i.priceFen * i.qty)}</Text>
            </View>
          ))}
          <View className='row'>
            <Text>合计</Text>
            <Text className='amount'>{formatFen(t.priceFen ?? 0)}</Text>
          </View>
          <View className='btn btn-primary' onClick={() => consent(true)}>
            同意并开始维修
          </View>
          <View className='btn btn-plain' onClick={() => consent(false)}>
            不同意
          </View>
        </View>
      ) : null}
      {t.status === 'resolved' ? (
        <View className='card' data-rate>
          <View className='card-title'>服务评价</View>
          {t.resolution ? <View className='muted'>处理情况：{t.resolution}</View> : null}
          <View className='repair-stars'>
            {[1, 2, 3, 4, 5].map((n) => (
              <Text key={n} data-star={n} className={n <= stars ? 'repair-star repair-star-on' : 'repair-star'} onClick={() => setStars(n)}>
                ★
              </Text>
            ))}
          </View>
          <Textarea
            className='input repair-textarea'
            value={comment}
            maxlength={200}
            placeholder='说说您的感受（选填）'
            onInput={(e) => setComment(e.detail.value)}
          />
          <View
            className='btn btn-primary'
            data-submit-rating
            onClick={() => act(() => repairsApi.rate(id, { rating: stars, ...(comment ? { comment } : {}) }))}
          >
            提交评价
          </View>
          <View className='muted' data-unsatisfied-note>
            低于{t.unsatisfiedBelowStars}星视为不满意，我们将重新派单处理。
          </View>
        </View>
      ) : null}
      {t.rating ? (
        <View className='card'>
          <View className='card-title'>我的评价：{'★'.repeat(t.rating)}</View>
          <View className='muted'>{t.ratingComment ?? ''}</View>
        </View>
      ) : null}
      <Timeline steps={t.timeline ?? []} />
      {['pending', 'assigned', 'contacted'].includes(t.status) ? (
        <View
          className='btn btn-danger'
          onClick={() =>
            Taro.showModal({ title: '取消报修？', content: '取消后如需维修请重新报修' }).then((r) => {
              if (r.confirm) void act(() => repairsApi.cancel(id));
            })
          }
        >
          取消报修
        </View>
      ) : null}
    </View>
  );
}
