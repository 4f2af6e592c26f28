import Taro from '@tarojs/taro';
import { Text, View } from '@tarojs/components';
import { formatChinaTime, formatFen, INVOICE_STATE_LABEL, type InvoiceView } from '@heat-butler/shared';
import { invoicesApi } from '../../services/api/invoices';
import { ensureResident, IS_H5 } from '../../services/session';
import { useData } from '../../services/use-data';
import { Empty, LoadError } from '../../components/ui';

/**
 * Open an issued invoice's PDF: WeChat downloads and opens it; a browser opens the signed link.
 * The link is signed for a limited time: when the server refuses it, the list is fetched again
 * (fresh links) and the resident is told to tap once more. Never rejects.
 */
async function openPdf(url: string, refresh: () => Promise<void>) {
  if (IS_H5) {
    window.open(url, '_blank');
    return;
  }
  Taro.showLoading({ title: '正在打开' });
  let problem = '';
  try {
    const { tempFilePath, statusCode } = await Taro.downloadFile({ url });
    if (statusCode !== 200) problem = '发票链接已过期，已为您刷新，请再点一次“查看PDF”';
    else await Taro.openDocument({ filePath: tempFilePath, fileType: 'pdf', showMenu: true });
  } catch {
    problem = '发票打开失败，请检查网络后重试';
  }
  Taro.hideLoading();
  if (!problem) return;
  Taro.showToast({ title: problem, icon: 'none', duration: 3000 });
  await refresh();
}

/** 我的发票: every invoice of my payments, with red reversals after refunds. */
export default function Invoices() {
  const invoices = useData(async () => ((await ensureResident()) ? (await invoicesApi.list()).items : undefined), [], { onShow: true });
  const items = invoices.data;
  const load = invoices.reload;

  const email = async (inv: InvoiceView) => {
    const res = await Taro.showModal({ title: '发送到邮箱', editable: true, placeholderText: '请输入邮箱地址' } as any);
    const address = (res as any).content?.trim();
    if (!res.confirm || !address) return;
    await invoicesApi.email({ id: inv.id }, { email: address });
    Taro.showToast({ title: '已发送', icon: 'success' });
  };

  return (
    <View className='page'>
      <LoadError error={invoices.error} onRetry={load} />
      {items && !items.length ? <Empty>暂无发票。缴费成功后可在缴费凭证页申请电子发票。</Empty> : null}
      {items?.some((i) => i.status === 'requested' || i.status === 'issuing') ? (
        <View className='btn btn-plain' onClick={() => void load()}>
          刷新开票进度
        </View>
      ) : null}
      {items?.map((inv) => (
        <View className='card invoice-card' key={inv.id} data-invoice-id={inv.id} data-status={inv.status}>
          <View className='row'>
            <Text className='strong'>{inv.typeLabel}</Text>
            <Text className={inv.status === 'issued' ? 'tag tag-green' : inv.status === 'failed' ? 'tag tag-red' : 'tag tag-grey'}>
              {INVOICE_STATE_LABEL[inv.status]}
            </Text>
          </View>
          <View className='muted'>
            抬头 {inv.titleName}
            {inv.taxId ? ` · ${inv.taxId}` : ''}
          </View>
          <View className='row'>
            <Text className='muted'>
              税率 {inv.rateLabel}
              {inv.number ? ` · 发票号码 ${inv.number}` : ''}
            </Text>
            <Text className='amount'>{formatFen(inv.amountFen)}</Text>
          </View>
          {inv.issuedAt ? <View className='muted'>开票时间 {formatChinaTime(inv.issuedAt)}</View> : null}
          {inv.failure ? <View className='alert'>开具失败：{inv.failure}。客服会尽快为您重新开具。</View> : null}
          {inv.pdfUrl ? (
            <View className='row invoice-actions'>
              <View className='btn btn-plain btn-half' onClick={() => void openPdf(inv.pdfUrl!, load)}>
                查看PDF
              </View>
              <View className='btn btn-plain btn-half' onClick={() => email(inv)}>
                发送邮箱
              </View>
            </View>
          ) : null}
        </View>
      ))}
    </View>
  );
}
