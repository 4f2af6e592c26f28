import { useEffect, useRef, useState } from 'react';
import Taro from '@tarojs/taro';
import { Text, View } from '@tarojs/components';
import { AdminApi, HOUSEHOLD_COLUMNS, type ImportJobView } from '@heat-butler/shared';
import { ApiError, pathOf } from '../../services/api';
import { adminApi } from '../../services/api/admin';
import { nav, PAGES } from '../../services/pages';
import { IS_H5 } from '../../services/session';
import { chooseChatFile, downloadXlsx, postRawFile, type PickedFile } from '../admin-files';
import { staffPage } from '../../components/staff-page';
import { IssueBills } from '../../components/issue-bills';

const FINISHED = ['done', 'rejected', 'failed'];
const ISSUE_LIMIT = 500;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function sizeText(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} KB`;
}

/**
 * 住户导入 (admin, meant for a desktop browser): template, pick an XLSX/CSV, a dry run that lists
 * every problem (row, column, message) with the XLSX report, then the real all-or-nothing import
 * with progress and the summary.
 */
export default staffPage(['admin'], function AdminImport() {
  const [picked, setPicked] = useState<PickedFile | null>(null);
  const [job, setJob] = useState<ImportJobView | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const inputRef = useRef<HTMLInputElement | null>(null);
  const alive = useRef(true);
  useEffect(() => () => void (alive.current = false), []);

  /** Upload the picked file (dry run or for real) and poll the job until it ends. */
  const run = async (file: PickedFile, dryRun: boolean) => {
    setBusy(true);
    setError('');
    try {
      // the file is the request's raw body: posted by admin-files.ts to the described path
      let j = await postRawFile<ImportJobView>(pathOf(AdminApi.startImport, { fileName: file.name, dryRun: dryRun ? '1' : undefined }), file);
      setJob(j);
      while (alive.current && !FINISHED.includes(j.state)) {
        await sleep(500);
        j = await adminApi.importJob({ id: j.id }, { quiet: true });
        setJob(j);
      }
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      setError(e.message);
    } finally {
      setBusy(false);
    }
  };

  const onPicked = (file: PickedFile | null) => {
    if (!file) return;
    setPicked(file);
    setJob(null);
    void run(file, true);
  };

  const choose = async () => {
    if (busy) return;
    if (IS_H5) inputRef.current?.click();
    else onPicked(await chooseChatFile());
  };

  const running = !!job && !FINISHED.includes(job.state);
  const checkedOk = !!job && job.dryRun && job.state === 'done';
  const imported = !!job && !job.dryRun && job.state === 'done';

  return (
    <View className='page admin-page'>
      <View className='card'>
        <View className='card-title'>导入住户数据</View>
        <View className='muted'>
          从营业收费系统导出住户（XLSX 或 CSV，UTF-8 或 GBK），列为：{HOUSEHOLD_COLUMNS.map((c) => c.header).join('、')}
          ，以及每个采暖季一列“欠费2025-2026（元）”。 先校验全部行，全部通过后才能导入；导入要么全部写入，要么什么都不写；按户号更新已有住户，不会重复。
        </View>
        <View className='row admin-actions'>
          <Text className='link' data-template onClick={() => downloadXlsx(adminApi.importTemplate(), '住户导入模板.xlsx')}>
            下载导入模板
          </Text>
          <Text className='link' onClick={() => downloadXlsx(adminApi.exportAccounts(), '住户.xlsx')}>
            导出现有住户
          </Text>
        </View>
        {IS_H5 ? (
          <input
            ref={inputRef}
            type='file'
            accept='.xlsx,.csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,text/csv'
            data-import-file
            style={{ display: 'none' }}
            onChange={(e) => {
              const f = e.currentTarget.files?.[0];
              e.currentTarget.value = '';
              onPicked(f ? { name: f.name, size: f.size, file: f } : null);
            }}
          />
        ) : null}
        <View className={`btn btn-primary${busy ? ' btn-disabled' : ''}`} data-choose-file onClick={choose}>
          {IS_H5 ? '选择文件并校验' : '从聊天记录选择文件并校验'}
        </View>
        {picked ? (
          <View className='muted admin-file' data-picked>
            {picked.name}（{sizeText(picked.size)}）
          </View>
        ) : null}
        {error ? (
          <View className='alert' data-import-error>
            {error}
          </View>
        ) : null}
      </View>

      {job ? (
        <View className='card' data-import-job={job.id} data-state={job.state} data-dry-run={job.dryRun ? '1' : '0'}>
          <View className='row'>
            <Text className='card-title'>
              {job.dryRun ? '校验' : '导入'}：{job.fileName}
            </Text>
            <Text className={`tag ${job.state === 'done' ? 'tag-green' : FINISHED.includes(job.state) ? 'tag-red' : ''}`} data-state-label>
              {job.dryRun && job.state === 'done' ? '校验通过' : job.stateLabel}
            </Text>
          </View>
          {running ? (
            <View data-progress>
              <View className='admin-progress'>
                <View className='admin-progress-bar' style={{ width: `${job.state === 'writing' ? job.percent : job.total ? 100 : 30}%` }} />
              </View>
              <View className='muted'>
                {job.stateLabel}
                {job.state === 'writing' && job.total
                  ? `：${job.processed} / ${job.total} 行（${job.percent}%）`
                  : job.processed
                    ? `：已处理 ${job.processed} 行`
                    : '…'}
              </View>
            </View>
          ) : null}

          {job.state === 'failed' && job.error ? <View className='alert'>{job.error}</View> : null}

          {job.issueCount ? (
            <View data-issues>
              <View className='alert' data-issue-count={job.issueCount}>
                发现 {job.issueCount} 处问题，未写入任何数据。请按下表修改文件后重新选择。
                {job.issueCount > job.issues.length ? `（此处显示前 ${job.issues.length} 处，完整列表见问题报告）` : ''}
              </View>
              <Text className='link' data-report onClick={() => downloadXlsx(adminApi.importReport({ id: job.id }), `导入问题-${job.id}.xlsx`)}>
                下载问题报告（Excel）
              </Text>
              <View className='admin-table admin-issues'>
                <View className='admin-tr admin-th'>
                  <View className='admin-td admin-col-row'>行号</View>
                  <View className='admin-td admin-col-col'>列</View>
                  <View className='admin-td admin-col-val'>内容</View>
                  <View className='admin-td admin-col-msg'>问题</View>
                </View>
                {job.issues.slice(0, ISSUE_LIMIT).map((i, k) => (
                  <View key={k} className='admin-tr admin-issue' data-row={i.row} data-column={i.column}>
                    <View className='admin-td admin-col-row'>{i.row}</View>
                    <View className='admin-td admin-col-col'>{i.column || '整行'}</View>
                    <View className='admin-td admin-col-val'>{i.value}</View>
                    <View className='admin-td admin-col-msg'>{i.message}</View>
                  </View>
                ))}
              </View>
            </View>
          ) : null}

          {job.summary ? (
            <View className='admin-summary' data-summary>
              <View className='row'>
                <Text>数据行</Text>
                <Text className='strong' data-summary-rows>
                  {job.summary.rows}
                </Text>
              </View>
              <View className='row'>
                <Text>新建楼栋 / 更新楼栋</Text>
                <Text>
                  {job.summary.buildingsCreated} / {job.summary.buildingsUpdated}
                </Text>
              </View>
              <View className='row'>
                <Text>新建单元</Text>
                <Text>{job.summary.unitsCreated}</Text>
              </View>
              <View className='row'>
                <Text>新建住户 / 更新住户</Text>
                <Text data-summary-accounts>
                  {job.summary.accountsCreated} / {job.summary.accountsUpdated}
                </Text>
              </View>
              <View className='row'>
                <Text>往年欠费账单</Text>
                <Text>{job.summary.arrearsBills}</Text>
              </View>
              <View className='row'>
                <Text>用时</Text>
                <Text>{job.summary.seconds} 秒</Text>
              </View>
            </View>
          ) : null}

          {checkedOk && picked ? (
            <View>
              <View className='notice'>校验通过，尚未写入。确认后将按上面的数字写入（约需 1 分钟以内）。</View>
              <View className={`btn btn-primary${busy ? ' btn-disabled' : ''}`} data-confirm-import onClick={() => !busy && run(picked, false)}>
                确认导入
              </View>
            </View>
          ) : null}
          {imported ? (
            <View className='notice' data-imported>
              导入完成。住户可用户号和户主姓名绑定。
            </View>
          ) : null}
          {imported && job.summary?.seasonBills ? (
            <View className='admin-summary' data-season-bills={job.summary.seasonBills.season}>
              <View className='row'>
                <Text>{job.summary.seasonBills.label}尚无账单的住户</Text>
                <Text className='strong' data-unbilled>
                  {job.summary.seasonBills.unbilled}
                </Text>
              </View>
              {job.summary.seasonBills.unbilled ? (
                <View className='muted'>含本次导入的新住户（导入只写入往年欠费）。出账后住户即可在小程序查看并缴纳本采暖季热费。</View>
              ) : (
                <View className='muted'>本采暖季的账单已全部生成。</View>
              )}
              {job.summary.seasonBills.unbilled ? <IssueBills season={job.summary.seasonBills.season} canIssue /> : null}
            </View>
          ) : null}
        </View>
      ) : null}
      <View className='btn btn-plain' onClick={() => Taro.navigateBack().catch(() => nav.redirect(PAGES.staffHome))}>
        返回工作台
      </View>
    </View>
  );
});
