/**
 * Photos (repairs, stop/resume documents, group messages, crews): pick with `chooseMedia`, shrink
 * with `compressImage` (in H5, which lacks it, a canvas does the same), send with `uploadFile`
 * (multipart, POST /api/v1/uploads with the photo's purpose). A photo still too large after
 * compression, or refused by the server, is reported in a dialog the user must dismiss: never
 * hidden by the loading toast, never dropped silently.
 */
import Taro from '@tarojs/taro';
import { PHOTO_MAX_BYTES, UploadsApi, type ErrorBody, type UploadPurpose, type UploadResponse } from '@heat-butler/shared';
import { API_PREFIX, getToken } from './api';

/** longest side after compression: plenty for a repair or an ID card, a few hundred KB */
const MAX_SIDE = 1600;
const QUALITY = 70;

interface LocalPhoto {
  path: string;
  size: number;
}

/** Where an <Image> loads a photo link of the API from (links are relative to the BFF). */
export const photoSrc = (url: string) => (url.startsWith('/') ? API_BASE : '') + url;

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)}MB`;

/**
 * chooseMedia with callbacks in the WeChat build: Taro 4.2.1 doesn't promisify it there (it isn't
 * in the weapp plugin's promise list).
 */
function chooseMedia(count: number): Promise<Taro.chooseMedia.SuccessCallbackResult | null> {
  const options = { count, mediaType: ['image' as const], sourceType: ['album' as const, 'camera' as const], sizeType: ['compressed' as const] };
  // H5: Taro's own implementation (a file input) answers with a promise
  if (process.env.TARO_ENV === 'h5') return Taro.chooseMedia(options).catch(() => null);
  return new Promise((resolve) => Taro.chooseMedia({ ...options, success: resolve, fail: () => resolve(null) }));
}

async function pick(count: number): Promise<LocalPhoto[]> {
  const res = await chooseMedia(count);
  return (res?.tempFiles ?? []).map((f) => ({ path: f.tempFilePath, size: f.size }));
}

/** WeChat: compressImage to at most MAX_SIDE wide, then the file's real size. */
async function compressInWeChat(photo: LocalPhoto): Promise<LocalPhoto> {
  const out = await Taro.compressImage({ src: photo.path, quality: QUALITY, compressedWidth: MAX_SIDE }).catch(() => null);
  if (!out?.tempFilePath) return photo;
  const size = await new Promise<number | null>((resolve) => {
    try {
      Taro.getFileSystemManager().getFileInfo({ filePath: out.tempFilePath, success: (r) => resolve(r.size), fail: () => resolve(null) });
    } catch {
      resolve(null);
    }
  });
  // size unknown: send the original's size check to the server (its 413 is shown the same way)
  return { path: out.tempFilePath, size: size ?? Math.min(photo.size, PHOTO_MAX_BYTES) };
}

/** H5 (no compressImage there): draw on a canvas at most MAX_SIDE on its longest side, as JPEG. */
async function compressInBrowser(photo: LocalPhoto): Promise<LocalPhoto> {
  try {
    const img = new Image();
    img.src = photo.path;
    await img.decode();
    const scale = Math.min(1, MAX_SIDE / Math.max(img.naturalWidth, img.naturalHeight));
    const canvas = document.createElement('canvas');
    canvas.width = Math.max(1, Math.round(img.naturalWidth * scale));
    canvas.height = Math.max(1, Math.round(img.naturalHeight * scale));
    const g = canvas.getContext('2d')!;
    g.fillStyle = '#fff'; // transparent PNG areas become white, not black
    g.fillRect(0, 0, canvas.width, canvas.height);
    g.drawImage(img, 0, 0, canvas.width, canvas.height);
    const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/jpeg', QUALITY / 100));
    if (!blob) return photo;
    return { path: URL.createObjectURL(blob), size: blob.size };
  } catch {
    return photo;
  }
}

function compress(photo: LocalPhoto): Promise<LocalPhoto> {
  // a build-time constant: the weapp bundle drops the browser branch
  return process.env.TARO_ENV === 'h5' ? compressInBrowser(photo) : compressInWeChat(photo);
}

class PhotoError extends Error {
  constructor(
    public readonly title: string,
    message: string,
  ) {
    super(message);
  }
}

/** maxBytes null: refused as too large by something that didn't say its limit (a proxy in front of the BFF) */
function tooLarge(index: number, total: number, size: number | null, maxBytes: number | null): PhotoError {
  const which = total > 1 ? `第${index + 1}张照片` : '这张照片';
  const limit = maxBytes ? `超过${mb(maxBytes)}的上限` : '超过了服务器允许的大小';
  return new PhotoError('照片太大', `${which}${size ? `压缩后仍有${mb(size)}，` : ''}${limit}，没有上传。请换一张或裁剪后再试。`);
}

async function send(photo: LocalPhoto, purpose: UploadPurpose): Promise<UploadResponse> {
  const token = getToken();
  const res = await Taro.uploadFile({
    url: `${API_BASE}${API_PREFIX}${UploadsApi.upload.path}`,
    filePath: photo.path,
    name: 'file',
    formData: { purpose },
    header: token ? { Authorization: `Bearer ${token}` } : {},
    timeout: 60_000,
  }).catch(() => null);
  if (!res) throw new PhotoError('上传失败', '网络异常，照片没有上传，请检查网络后重试。');
  let body: any = res.data;
  try {
    body = typeof res.data === 'string' ? JSON.parse(res.data) : res.data;
  } catch {
    /* not JSON */
  }
  if (res.statusCode === 201) return body as UploadResponse;
  const error = (body as ErrorBody | undefined)?.error;
  // a 413 without our JSON (a proxy's page, or the body limit) is the same problem: too large, not "try again later"
  if (error?.code === 'UPLOAD_TOO_LARGE' || res.statusCode === 413)
    throw Object.assign(new Error('too large'), { maxBytes: (error?.details as any)?.maxBytes as number | undefined });
  // say that the photo is not attached, then why (the server's Chinese message)
  throw new PhotoError('上传失败', error?.message ? `照片没有上传：${error.message}` : '照片没有上传，请稍后再试。');
}

/**
 * Pick up to `max` photos and upload each for `purpose`; resolves with those uploaded. When one
 * fails the user is told which and why in a dialog, and the ones before it are kept.
 */
export async function pickAndUpload(max: number, purpose: UploadPurpose): Promise<UploadResponse[]> {
  if (max <= 0) return [];
  const picked = (await pick(max)).slice(0, max);
  const out: UploadResponse[] = [];
  if (!picked.length) return out;
  let failure: PhotoError | null = null;
  Taro.showLoading({ title: '上传中', mask: true });
  try {
    for (const [i, original] of picked.entries()) {
      const photo = await compress(original);
      if (photo.size > PHOTO_MAX_BYTES) {
        failure = tooLarge(i, picked.length, photo.size, PHOTO_MAX_BYTES);
        break;
      }
      try {
        out.push(await send(photo, purpose));
      } catch (err: any) {
        failure =
          err instanceof PhotoError ? err : tooLarge(i, picked.length, photo.size, err?.maxBytes ?? (photo.size > PHOTO_MAX_BYTES ? PHOTO_MAX_BYTES : null));
        break;
      }
    }
  } finally {
    Taro.hideLoading();
  }
  // after the loading toast is gone: a dialog stays until the user has read it
  if (failure) {
    const kept = out.length ? `\n已上传的${out.length}张照片已保留。` : '';
    await Taro.showModal({ title: failure.title, content: failure.message + kept, showCancel: false, confirmText: '知道了' }).catch(() => undefined);
  }
  return out;
}

/** One photo; resolves with its upload id (up_…), or null when none was picked or it failed (the user was told). */
export async function choosePhoto(purpose: UploadPurpose): Promise<string | null> {
  return (await pickAndUpload(1, purpose))[0]?.id ?? null;
}
