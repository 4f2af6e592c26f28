import { Image, View } from '@tarojs/components';
import type { UploadPurpose, UploadResponse } from '@heat-butler/shared';
import { photoSrc, pickAndUpload } from '../services/photo';

/**
 * A row of uploaded photos with ＋ to pick and upload more, up to `max` (9: what WeChat's picker
 * allows at once). `addData` names the ＋ as a data attribute (data-<addData>) for the tests.
 */
export function PhotoPicker(props: {
  photos: UploadResponse[];
  onChange: (photos: UploadResponse[]) => void;
  purpose: UploadPurpose;
  addData: string;
  max?: number;
}) {
  const { photos, max = 9 } = props;
  return (
    <View className='repair-photos'>
      {photos.map((p) => (
        <Image key={p.id} className='repair-photo' src={photoSrc(p.url)} mode='aspectFill' />
      ))}
      {photos.length < max ? (
        <View
          className='repair-photo repair-photo-add'
          {...{ [`data-${props.addData}`]: true }}
          onClick={async () => props.onChange([...photos, ...(await pickAndUpload(max - photos.length, props.purpose))])}
        >
          ＋
        </View>
      ) : null}
    </View>
  );
}
