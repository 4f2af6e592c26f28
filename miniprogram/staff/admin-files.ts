/**
 * Files for the admin pages: XLSX downloads with the session token, and the raw-body upload of a
 * household file (H5: a File from <input type="file">; WeChat: a path from chooseMessageFile).
 */
import Taro from '@tarojs/taro';
import type { ErrorBody, ErrorCode } from '@heat-butler/shared';
import { ApiError, getToken } from '../services/api';
import { IS_H5 } from '../services/session';

export const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** What the admin picked: a browser File (H5) or a temp path (WeChat). */
export type PickedFile = { name: string; size: number; file?: File; path?: string };

export function contentTypeOf(name: string): string {
  return /\.xlsx$/i.test(name) ? XLSX_TYPE : /\.csv$/i.test(name) ? 'text/csv' : 'application/octet-stream';
}

export { downloadXlsx } from '../services/download';

/** WeChat: pick an XLSX/CSV from a chat (the only way to get a file into a mini-program). */
export async function chooseChatFile(): Promise<PickedFile | null> {
  try {
    const res = await Taro.chooseMessageFile({ count: 1, type: 'file', extension: ['xlsx', 'csv'] });
    const f = res.tempFiles[0];
    return f ? { name: f.name, size: f.size, path: f.path } : null;
  } catch {
    return null; // cancelled
  }
}

function toError(status: number, data: unknown): ApiError {
  const body = data as ErrorBody | undefined;
  return new ApiError((body?.error?.code ?? 'INTERNAL') as ErrorCode, body?.error?.message ?? '系统繁忙，请稍后再试', status, body?.error?.details);
}

/** POST the file as the raw request body with its Content-Type; the JSON answer, or an ApiError. */
export async function postRawFile<T>(path: string, picked: PickedFile): Promise<T> {
  const url = `${API_BASE}${path}`;
  const header = { Authorization: `Bearer ${getToken()}`, 'Content-Type': contentTypeOf(picked.name) };
  if (IS_H5 && picked.file) {
    let res: Response;
    try {
      res = await fetch(url, { method: 'POST', headers: header, body: picked.file });
    } catch {
      throw new ApiError('NETWORK', '网络异常，请检查网络后重试', 0);
    }
    const data = await res.json().catch(() => undefined);
    if (!res.ok) throw toError(res.status, data);
    return data as T;
  }
  const buf = await new Promise<ArrayBuffer>((resolve, reject) =>
    Taro.getFileSystemManager().readFile({ filePath: picked.path!, success: (r) => resolve(r.data as ArrayBuffer), fail: reject }),
  );
  let res: Taro.request.SuccessCallbackResult<any>;
  try {
    res = await Taro.request({ url, method: 'POST', data: buf as any, header, dataType: 'json', timeout: 120_000 });
  } catch {
    throw new ApiError('NETWORK', '网络异常，请检查网络后重试', 0);
  }
  if (res.statusCode < 200 || res.statusCode >= 300) throw toError(res.statusCode, res.data);
  return res.data as T;
}
