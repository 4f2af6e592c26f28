/**
 * The WeChat path of the photo service (the H5 path runs in the browser tests): chooseMedia, then
 * compressImage, then a multipart uploadFile with the purpose; a photo still too large after
 * compression, or refused by the server, ends in a dialog shown after the loading toast is gone.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';

const calls: string[] = [];
const taro = {
  chooseMedia: vi.fn(),
  compressImage: vi.fn(),
  getFileSystemManager: () => ({
    getFileInfo: (o: { filePath: string; success: (r: { size: number }) => void }) => o.success({ size: sizes[o.filePath] ?? 0 }),
  }),
  uploadFile: vi.fn(),
  showLoading: vi.fn(() => calls.push('showLoading')),
  hideLoading: vi.fn(() => calls.push('hideLoading')),
  showModal: vi.fn(async () => (calls.push('showModal'), { confirm: true })),
  getStorageSync: (k: string) => (k === 'hb.token' ? 'tok' : ''),
  chooseImage: vi.fn(),
};
let sizes: Record<string, number> = {};
vi.mock('@tarojs/taro', () => ({ default: taro }));
(globalThis as any).API_BASE = 'https://bff.example.com';

const { pickAndUpload, choosePhoto } = await import('./photo');

const MB = 1024 * 1024;

beforeEach(() => {
  calls.length = 0;
  sizes = {};
  for (const f of Object.values(taro)) if (vi.isMockFunction(f)) f.mockClear();
});

/** like wx.chooseMedia in the WeChat build: the result comes through `success` (Taro doesn't promisify it there) */
function picked(...files: { path: string; size: number }[]) {
  taro.chooseMedia.mockImplementationOnce(
    (o: any) => void o.success({ tempFiles: files.map((f) => ({ tempFilePath: f.path, size: f.size, fileType: 'image' })) }),
  );
}

describe('photos in the WeChat build', () => {
  it('picks with chooseMedia, compresses, and uploads multipart with the purpose and the session', async () => {
    picked({ path: 'wxfile://a.jpg', size: 3.3 * MB });
    taro.compressImage.mockResolvedValueOnce({ tempFilePath: 'wxfile://a-small.jpg' });
    sizes['wxfile://a-small.jpg'] = 400 * 1024;
    taro.uploadFile.mockResolvedValueOnce({ statusCode: 201, data: JSON.stringify({ id: 'up_' + 'a'.repeat(32), url: '/api/v1/uploads/up_x?exp=1&sig=s' }) });
    const out = await pickAndUpload(3, 'repair_photo');
    expect(out).toEqual([{ id: 'up_' + 'a'.repeat(32), url: '/api/v1/uploads/up_x?exp=1&sig=s' }]);
    expect(taro.chooseMedia).toHaveBeenCalledWith(expect.objectContaining({ count: 3, mediaType: ['image'] }));
    expect(taro.chooseImage).not.toHaveBeenCalled();
    expect(taro.compressImage).toHaveBeenCalledWith(expect.objectContaining({ src: 'wxfile://a.jpg', compressedWidth: 1600 }));
    expect(taro.uploadFile).toHaveBeenCalledWith(
      expect.objectContaining({
        url: 'https://bff.example.com/api/v1/uploads',
        filePath: 'wxfile://a-small.jpg',
        name: 'file',
        formData: { purpose: 'repair_photo' },
        header: { Authorization: 'Bearer tok' },
      }),
    );
    expect(taro.showModal).not.toHaveBeenCalled();
  });

  it('a photo still above 2 MB after compression is not sent, and a dialog says so after the loading toast', async () => {
    picked({ path: 'wxfile://big.jpg', size: 9 * MB });
    taro.compressImage.mockResolvedValueOnce({ tempFilePath: 'wxfile://big-c.jpg' });
    sizes['wxfile://big-c.jpg'] = 3.3 * MB;
    expect(await choosePhoto('id_document')).toBeNull();
    expect(taro.uploadFile).not.toHaveBeenCalled();
    expect(calls).toEqual(['showLoading', 'hideLoading', 'showModal']);
    expect(taro.showModal).toHaveBeenCalledWith(
      expect.objectContaining({ title: '照片太大', content: expect.stringContaining('这张照片压缩后仍有3.3MB，超过2.0MB的上限，没有上传'), showCancel: false }),
    );
  });

  it('the server’s 413 is shown with its limit; photos uploaded before it are kept', async () => {
    picked({ path: 'wxfile://1.jpg', size: MB }, { path: 'wxfile://2.jpg', size: MB });
    taro.compressImage.mockResolvedValueOnce({ tempFilePath: 'wxfile://1c.jpg' }).mockResolvedValueOnce({ tempFilePath: 'wxfile://2c.jpg' });
    sizes['wxfile://1c.jpg'] = 100 * 1024;
    sizes['wxfile://2c.jpg'] = 500 * 1024;
    taro.uploadFile.mockResolvedValueOnce({ statusCode: 201, data: JSON.stringify({ id: 'up_1', url: '/u1' }) }).mockResolvedValueOnce({
      statusCode: 413,
      data: JSON.stringify({ error: { code: 'UPLOAD_TOO_LARGE', message: '照片太大', details: { maxBytes: 256 * 1024 } } }),
    });
    const out = await pickAndUpload(9, 'chat_photo');
    expect(out.map((u) => u.id)).toEqual(['up_1']);
    const modal = (taro.showModal.mock.calls as unknown as [{ title: string; content: string }][])[0]![0];
    expect(modal.title).toBe('照片太大');
    expect(modal.content).toContain('第2张照片压缩后仍有0.5MB，超过0.3MB的上限');
    expect(modal.content).toContain('已上传的1张照片已保留');
  });

  it('a 413 from a proxy (an HTML page, no JSON) is reported as too large, not as "try again later"', async () => {
    picked({ path: 'wxfile://p.jpg', size: 3.3 * MB });
    taro.compressImage.mockResolvedValueOnce({ tempFilePath: 'wxfile://pc.jpg' });
    sizes['wxfile://pc.jpg'] = 1.5 * MB;
    taro.uploadFile.mockResolvedValueOnce({ statusCode: 413, data: '<html><head><title>413 Request Entity Too Large</title></head></html>' });
    expect(await choosePhoto('repair_photo')).toBeNull();
    expect(taro.showModal).toHaveBeenCalledWith(
      expect.objectContaining({ title: '照片太大', content: expect.stringContaining('这张照片压缩后仍有1.5MB，超过了服务器允许的大小，没有上传') }),
    );
  });

  it('another refusal shows the server’s Chinese message; a lost connection says so', async () => {
    picked({ path: 'wxfile://x.jpg', size: MB });
    taro.compressImage.mockResolvedValueOnce({ tempFilePath: 'wxfile://xc.jpg' });
    sizes['wxfile://xc.jpg'] = 100 * 1024;
    taro.uploadFile.mockResolvedValueOnce({
      statusCode: 400,
      data: JSON.stringify({ error: { code: 'UPLOAD_INVALID', message: '图片格式不正确，请上传 JPG、PNG 或 WEBP 照片' } }),
    });
    await pickAndUpload(1, 'repair_photo');
    expect(taro.showModal).toHaveBeenLastCalledWith(
      expect.objectContaining({ title: '上传失败', content: '照片没有上传：图片格式不正确，请上传 JPG、PNG 或 WEBP 照片' }),
    );

    picked({ path: 'wxfile://y.jpg', size: MB });
    taro.compressImage.mockRejectedValueOnce(new Error('compressImage:fail')); // the original is tried
    sizes['wxfile://y.jpg'] = 100 * 1024;
    taro.uploadFile.mockRejectedValueOnce({ errMsg: 'uploadFile:fail' });
    await pickAndUpload(1, 'repair_photo');
    expect(taro.uploadFile).toHaveBeenLastCalledWith(expect.objectContaining({ filePath: 'wxfile://y.jpg' }));
    expect(taro.showModal).toHaveBeenLastCalledWith(expect.objectContaining({ title: '上传失败', content: expect.stringContaining('网络异常') }));
  });

  it('nothing picked: nothing shown', async () => {
    taro.chooseMedia.mockImplementationOnce((o: any) => void o.fail({ errMsg: 'chooseMedia:fail cancel' }));
    expect(await pickAndUpload(1, 'repair_photo')).toEqual([]);
    expect(taro.showLoading).not.toHaveBeenCalled();
    expect(taro.showModal).not.toHaveBeenCalled();
  });
});
