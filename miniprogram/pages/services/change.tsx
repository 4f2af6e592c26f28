import { useEffect, useState } from 'react';
import Taro from '@tarojs/taro';
import { Text, View } from '@tarojs/components';
import {
  CompanyRules,
  formatFen,
  nextOpenSeason,
  seasonCodeOf,
  seasonLabel,
  seasonStartYear,
  SERVICE_CHANGE_KIND_LABEL,
  type BoundAccount,
  type ServiceChangeDocument,
  type ServiceChangeKind,
  type ServiceChangePreview,
} from '@heat-butler/shared';
import { ApiError } from '../../services/api';
import { accountsApi } from '../../services/api/accounts';
import { serviceChangesApi } from '../../services/api/service-changes';
import { nav, PAGES } from '../../services/pages';
import { useData } from '../../services/use-data';
import { Empty, LoadError, Segmented } from '../../components/ui';
import { choosePhoto } from '../../services/photo';
import { askSubscribe } from '../../services/subscribe';

/** 办理报停/复供: choose account and season, read the rules and the fee effect, upload documents, submit. */
export default function ServiceChangeApply() {
  const first = nextOpenSeason(new Date(), CompanyRules.parse({}));
  const seasons = [first, seasonCodeOf(seasonStartYear(first) + 1)];
  const [accountId, setAccountId] = useState<number | null>(null);
  const [season, setSeason] = useState(first);
  const [kind, setKind] = useState<ServiceChangeKind>('stop');
  const [preview, setPreview] = useState<ServiceChangePreview | null>(null);
  const [previewError, setPreviewError] = useState<string | null>(null);
  const [docs, setDocs] = useState<Record<string, string>>({});
  const [error, setError] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);

  const bound = useData(
    async (): Promise<BoundAccount[]> => {
      const r = await accountsApi.list();
      if (r.items.length && accountId === null) {
        setAccountId(r.items[0]!.accountId);
        setKind(r.items[0]!.status === 'active' ? 'stop' : 'resume');
      }
      return r.items;
    },
    [],
    { onShow: true },
  );
  const accounts = bound.data ?? null;

  useEffect(() => {
    if (!accountId) return;
    setPreview(null);
    setPreviewError(null);
    serviceChangesApi
      .preview({ accountId, season, kind }, { quiet: true })
      .then(setPreview)
      .catch((e) => setPreviewError(e instanceof ApiError ? e.message : '加载失败'));
  }, [accountId, season, kind]);

  const upload = async (docKind: string) => {
    const id = await choosePhoto('id_document').catch(() => null);
    if (id) setDocs((d) => ({ ...d, [docKind]: id }));
  };

  const submit = async () => {
    if (!accountId || !preview) return;
    // in the tap, before any await: progress messages (one per 允许, so each step needs a grant)
    const asked = askSubscribe('serviceChange');
    setBusy(true);
    setError([]);
    await asked;
    const documents: ServiceChangeDocument[] = Object.entries(docs).map(([k, url]) => ({ kind: k, url }));
    try {
      const app = await serviceChangesApi.submit({ accountId, season, kind, documents }, { quiet: true });
      Taro.showToast({ title: '已提交', icon: 'success' });
      void nav.redirect(PAGES.serviceDetail, { id: app.id });
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      const d = e.details ?? {};
      if (d.message) setError([d.message]);
      else if (d.missing) setError(d.missing.map((m: { label: string }) => `请上传${m.label}`));
      else if (d.problems) setError(d.problems);
      else setError([e.message]);
    } finally {
      setBusy(false);
    }
  };

  if (accounts && !accounts.length) {
    return (
      <View className='page'>
        <Empty>请先绑定户号</Empty>
        <View className='btn btn-primary' onClick={() => nav.to(PAGES.bind)}>
          绑定户号
        </View>
      </View>
    );
  }
  const missing = preview?.requiredDocuments.filter((d) => !docs[d.kind]) ?? [];
  return (
    <View className='page'>
      <LoadError error={bound.error} onRetry={bound.reload} />
      <View className='card'>
        <View className='card-title'>户号</View>
        {(accounts ?? []).map((a) => (
          <View key={a.accountId} className='list-item row' data-account-id={a.accountId} onClick={() => setAccountId(a.accountId)}>
            <View>
              <View>{a.accountNo}</View>
              <View className='muted'>{a.address}</View>
            </View>
            <Text className={a.accountId === accountId ? 'tag sc-tag' : 'tag tag-grey sc-tag'}>
              {a.accountId === accountId ? '已选' : a.status === 'active' ? '供热中' : '已报停'}
            </Text>
          </View>
        ))}
      </View>
      <Segmented options={seasons.map((s) => ({ value: s, label: seasonLabel(s) }))} value={season} onChange={setSeason} />
      <Segmented options={(['stop', 'resume'] as const).map((k) => ({ value: k, label: SERVICE_CHANGE_KIND_LABEL[k] }))} value={kind} onChange={setKind} />
      {previewError ? <View className='alert'>{previewError}</View> : null}
      {preview ? (
        <View>
          <View className='card'>
            <View className='card-title'>费用变化</View>
            <View data-fee-text>{preview.fee.text}</View>
            {preview.arrears.totalFen > 0 && kind === 'stop' ? (
              <View className='alert'>
                欠费 {formatFen(preview.arrears.totalFen)}，请先缴清：
                <Text className='link' onClick={() => nav.tab(PAGES.bills)}>
                  去缴费
                </Text>
              </View>
            ) : null}
          </View>
          <View className='card'>
            <View className='card-title'>办理须知</View>
            <View className='muted'>申请截止：{preview.deadline}（北京时间）</View>
            {preview.rules.map((r, i) => (
              <View className='muted' key={i}>
                · {r}
              </View>
            ))}
          </View>
          <View className='card'>
            <View className='card-title'>所需材料</View>
            {preview.requiredDocuments.length ? null : <View className='muted'>无需上传材料</View>}
            {preview.requiredDocuments.map((d) => (
              <View className='list-item row' key={d.kind}>
                <Text>{d.label}</Text>
                <Text className={docs[d.kind] ? 'tag tag-green' : 'link'} onClick={() => upload(d.kind)}>
                  {docs[d.kind] ? '已上传（点按更换）' : '上传照片'}
                </Text>
              </View>
            ))}
          </View>
          {preview.problems.length ? (
            <View className='alert' data-problems>
              {preview.problems.map((p, i) => (
                <View key={i}>{p}</View>
              ))}
              {!preview.open && preview.nextSeason !== season ? (
                <View className='link' onClick={() => setSeason(preview.nextSeason)}>
                  改为申请{seasonLabel(preview.nextSeason)}
                </View>
              ) : null}
            </View>
          ) : null}
          {error.length ? (
            <View className='alert'>
              {error.map((p, i) => (
                <View key={i}>{p}</View>
              ))}
            </View>
          ) : null}
          <View
            className={`btn btn-primary ${busy || preview.problems.length || missing.length ? 'btn-disabled' : ''}`}
            onClick={() => !busy && !preview.problems.length && !missing.length && submit()}
          >
            {missing.length ? `请先上传${missing.map((m) => m.label).join('、')}` : `提交${SERVICE_CHANGE_KIND_LABEL[kind]}申请`}
          </View>
        </View>
      ) : null}
    </View>
  );
}
