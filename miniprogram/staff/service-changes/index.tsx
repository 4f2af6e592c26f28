import { useState } from 'react';
import Taro from '@tarojs/taro';
import { Image, Input, Text, View } from '@tarojs/components';
import { documentLabel, SERVICE_CHANGE_STATE_LABEL, type ReviewProblem, type ServiceChangeState, type ServiceChangeView } from '@heat-butler/shared';
import { ApiError } from '../../services/api';
import { serviceChangesApi } from '../../services/api/service-changes';
import { useData } from '../../services/use-data';
import { Empty, LoadError, Segmented } from '../../components/ui';
import { photoSrc } from '../../services/photo';
import { staffPage } from '../../components/staff-page';
import { DeskLayout, useDesk } from '../../components/desk-layout';

const FILTERS: ServiceChangeState[] = ['submitted', 'under_review', 'rejected', 'awaiting_payment', 'work_order', 'done'];

/** 报停/复供审核: an agent's pending applications in their areas; approve, or reject listing every problem at once. */
export default staffPage('any-staff', function ServiceChangeReview() {
  const [state, setState] = useState<ServiceChangeState>('submitted');
  const [open, setOpen] = useState<number | null>(null);
  const [notes, setNotes] = useState<Record<string, string>>({});
  const desk = useDesk();

  const list = useData(() => serviceChangesApi.staffList({ state, pageSize: 50 }), [state], { onShow: true });
  const page = list.data;
  const load = list.reload;

  const act = async (fn: () => Promise<unknown>) => {
    try {
      await fn();
      setOpen(null);
      setNotes({});
      await load();
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
    }
  };
  const reject = (a: ServiceChangeView) => {
    const problems: ReviewProblem[] = Object.entries(notes)
      .filter(([, m]) => m.trim())
      .map(([k, m]) => (k === '_other' ? { message: m.trim() } : { document: k, message: m.trim() }));
    if (!problems.length) return Taro.showToast({ title: '请至少写明一个问题', icon: 'none' });
    return act(() => serviceChangesApi.reject({ id: a.id }, { problems }));
  };

  /** an application's review: documents with the facts to check them against, problems, approve/reject */
  const review = (a: ServiceChangeView) => (
    <View>
      {a.review ? (
        <View className='review-facts' data-review-facts>
          <View className='ctx-line'>
            <Text className='muted'>户主姓名</Text>
            <Text className='strong' data-owner-name>
              {a.review.ownerName}
            </Text>
          </View>
          <View className='ctx-line'>
            <Text className='muted'>申请人</Text>
            <Text data-applicant>
              {a.review.applicant.label}
              {a.review.applicant.unbound ? '（申请后已解绑）' : ''}
            </Text>
          </View>
          <View className='muted'>请核对证件上的姓名与户主姓名、申请人身份是否相符。</View>
        </View>
      ) : null}
      {a.note ? <View className='muted'>居民备注：{a.note}</View> : null}
      {a.documents.map((d) => (
        <View className='list-item' key={d.kind}>
          <View>{documentLabel(d.kind)}</View>
          {d.url ? (
            <Image
              className='doc-photo'
              mode='aspectFit'
              src={photoSrc(d.url)}
              onClick={() => Taro.previewImage({ urls: [photoSrc(d.url!)] }).catch(() => undefined)}
              data-doc-photo
            />
          ) : (
            <View className='muted' data-doc-hidden>
              证件照片仅审核人员可查看
            </View>
          )}
          <Input
            className='input'
            placeholder='有问题请写明（留空表示无问题）'
            value={notes[d.kind] ?? ''}
            onInput={(e) => setNotes({ ...notes, [d.kind]: e.detail.value })}
          />
        </View>
      ))}
      <Input className='input' placeholder='其他问题' value={notes._other ?? ''} onInput={(e) => setNotes({ ...notes, _other: e.detail.value })} />
      {a.state === 'submitted' || a.state === 'under_review' ? (
        <View>
          <View className='btn btn-primary' onClick={() => act(() => serviceChangesApi.approve({ id: a.id }))}>
            审核通过
          </View>
          <View className='btn btn-danger' onClick={() => reject(a)}>
            驳回（一次列出全部问题）
          </View>
        </View>
      ) : null}
    </View>
  );
  // at a desk the first application shows until another is picked
  const selected = page?.items.find((a) => a.id === open) ?? page?.items[0] ?? null;

  return (
    <View className='page desk-page'>
      <Segmented
        options={FILTERS.slice(0, 4).map((s) => ({ value: s, label: SERVICE_CHANGE_STATE_LABEL[s].replace('（待补正）', '') }))}
        value={state}
        onChange={setState}
      />
      <LoadError error={list.error} onRetry={load} />
      {page && !page.items.length ? <Empty>没有{SERVICE_CHANGE_STATE_LABEL[state]}的申请</Empty> : null}
      <DeskLayout
        desk={desk}
        phone='inline'
        empty='在左侧选择一份申请进行审核'
        list={page?.items.map((a) => (
          <View
            className={`card ${desk ? 'desk-item' : ''} ${desk && selected?.id === a.id ? 'desk-selected' : ''}`}
            key={a.id}
            data-application-id={a.id}
            onClick={desk ? () => setOpen(a.id) : undefined}
          >
            <View className='row' onClick={() => setOpen(open === a.id ? null : a.id)}>
              <Text className='card-title'>
                {a.kindLabel} · {a.accountNo}
              </Text>
              <Text className='tag'>{a.stateLabel}</Text>
            </View>
            <View className='muted'>{a.address}</View>
            <View className='muted'>
              {a.seasonLabel}
              {a.late ? ` · 逾期受理：${a.lateReason}` : ''}
            </View>
            {!desk && open === a.id ? review(a) : null}
          </View>
        ))}
        detail={
          desk && selected ? (
            <View className='card' data-application-detail={selected.id}>
              {review(selected)}
            </View>
          ) : null
        }
      />
    </View>
  );
});
