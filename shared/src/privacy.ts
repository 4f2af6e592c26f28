/**
 * Everything the app collects about a person, in one list: the in-app privacy page
 * (pages/privacy) renders it, docs/SHIPPING.md tells the company to declare exactly these items
 * in the WeChat admin console (用户隐私保护指引), and a test (server/src/privacy.test.ts) checks
 * it against the code: every privacy-relevant wx API the mini-program calls, and every field a
 * resident sends the BFF, is covered here (or explicitly not personal).
 */
export interface PrivacyItem {
  key: string;
  /** what is collected (the page's wording; also the item to declare) */
  what: string;
  /** why (用途) */
  purpose: string;
  /** the WeChat 隐私指引 category to pick in the admin console */
  declareAs: string;
  /** how long it is kept */
  keptFor: string;
  /** wx APIs (and button open-types) that collect it */
  wxApis: readonly string[];
  /** request fields that carry it: `<SharedSchemaName>.<path>` (`[]` for array items) */
  fields: readonly string[];
}

export const PRIVACY_ITEMS: readonly PrivacyItem[] = [
  {
    key: 'wechat_id',
    what: '微信标识（openid，如已关联开放平台则含 unionid）',
    purpose: '识别您的登录，向您发送您允许的订阅消息',
    declareAs: '用户信息（微信登录标识）',
    keptFor: '账号存续期间',
    wxApis: ['login'],
    fields: ['WechatLoginRequest.code'],
  },
  {
    key: 'binding',
    what: '户号、户主姓名或户主手机号后4位、您与户主的关系',
    purpose: '核验您与户号的关系后展示账单、办理业务；姓名和手机号不会完整展示给其他人',
    declareAs: '姓名、手机号（后4位）',
    keptFor: '绑定期间；解除绑定后绑定记录仅用于审计',
    wxApis: [],
    fields: ['BindRequest.accountNo', 'BindRequest.ownerName', 'BindRequest.phoneLast4', 'BindRequest.relation'],
  },
  {
    key: 'contact_phone',
    what: '报修、投诉的联系电话',
    purpose: '维修人员与您联系、预约上门；处理投诉的工作人员与您联系、回访',
    declareAs: '手机号',
    keptFor: '与报修单、投诉单一同保存',
    wxApis: [],
    fields: ['CreateRepairRequest.contactPhone', 'FileComplaintRequest.contactPhone'],
  },
  {
    key: 'invoice_title',
    what: '发票抬头：名称、纳税人识别号（税号）、地址、电话、开户银行及账号',
    purpose: '开具电子发票（可从微信发票抬头中选择）',
    declareAs: '发票信息',
    keptFor: '发票抬头可随时删除；已开具的发票按税务规定保存',
    wxApis: ['chooseInvoiceTitle'],
    fields: [
      'InvoiceTitleInput.name',
      'InvoiceTitleInput.taxId',
      'InvoiceTitleInput.address',
      'InvoiceTitleInput.phone',
      'InvoiceTitleInput.bank',
      'InvoiceTitleInput.bankAccount',
      'RequestInvoice.title.name',
      'RequestInvoice.title.taxId',
      'RequestInvoice.title.address',
      'RequestInvoice.title.phone',
      'RequestInvoice.title.bank',
      'RequestInvoice.title.bankAccount',
      'ChangeInvoiceTitle.title.name',
      'ChangeInvoiceTitle.title.taxId',
      'ChangeInvoiceTitle.title.address',
      'ChangeInvoiceTitle.title.phone',
      'ChangeInvoiceTitle.title.bank',
      'ChangeInvoiceTitle.title.bankAccount',
    ],
  },
  {
    key: 'email',
    what: '电子邮箱',
    purpose: '将电子发票发送到您的邮箱',
    declareAs: '邮箱',
    keptFor: '与发票抬头和发票记录一同保存，抬头可随时删除',
    wxApis: [],
    fields: [
      'InvoiceTitleInput.email',
      'RequestInvoice.title.email',
      'RequestInvoice.email',
      'ChangeInvoiceTitle.title.email',
      'ChangeInvoiceTitle.email',
      'EmailInvoice.email',
    ],
  },
  {
    key: 'id_documents',
    what: '身份证件、房产或租赁证明等材料的照片',
    purpose: '报停/复供申请的资格审核，仅审核员工可见',
    declareAs: '证件照片（身份证件等材料的照片）',
    keptFor: '审核所需期间，默认180天后自动删除（公司可设置）',
    wxApis: ['chooseImage', 'chooseMedia'],
    fields: [
      'SubmitServiceChange.documents',
      'SubmitServiceChange.documents.[].url',
      'ResubmitServiceChange.documents',
      'ResubmitServiceChange.documents.[].url',
    ],
  },
  {
    key: 'photos',
    what: '您选择或拍摄的照片（报修、管家群、测温）',
    purpose: '上门维修、与管家沟通；发布前经微信内容安全检测',
    declareAs: '相册（仅读取您选择的照片）、摄像头',
    keptFor: '作为服务凭证，默认3年后自动删除（公司可设置）；未使用的照片1天后删除',
    wxApis: ['chooseImage', 'chooseMedia'],
    fields: ['CreateRepairRequest.photos', 'PostMessage.photo'],
  },
  {
    key: 'content',
    what: '您在管家群发送的消息、举报原因，报修描述、维修评价、投诉内容、报停备注',
    purpose: '与管家和邻居沟通、处理您的报修和申请；发布前经微信内容安全检测',
    declareAs: '发布内容',
    keptFor: '与所属群消息、报修单、投诉单或申请一同保存；被隐藏的消息保留用于审计',
    wxApis: [],
    fields: [
      'PostMessage.text',
      'ReportBody.reason',
      'CreateRepairRequest.description',
      'RateRepairRequest.comment',
      'FileComplaintRequest.content',
      'SubmitServiceChange.note',
      'ResubmitServiceChange.note',
    ],
  },
  {
    key: 'chat_files',
    what: '员工从微信聊天中选择的住户数据文件（仅员工端）',
    purpose: '员工导入供热公司的住户档案',
    declareAs: '微信聊天文件',
    keptFor: '文件仅在导入时读取，导入结果保存在住户档案中',
    wxApis: ['chooseMessageFile'],
    fields: [],
  },
];

/** What the app does NOT collect (the page says so; the test checks the code doesn't call them). */
export const NOT_COLLECTED = '我们不获取您的位置、通讯录、微信昵称头像、剪贴板和麦克风；不读取您未主动选择的照片。';

/**
 * wx APIs and button open-types WeChat treats as collecting personal information (its
 * 隐私接口 list, the ones a mini-program like this could plausibly call).
 */
export const PRIVACY_WX_APIS: readonly string[] = [
  'chooseImage',
  'chooseMedia',
  'chooseVideo',
  'chooseMessageFile',
  'chooseInvoiceTitle',
  'chooseInvoice',
  'chooseAddress',
  'getLocation',
  'getFuzzyLocation',
  'chooseLocation',
  'choosePoi',
  'startLocationUpdate',
  'startLocationUpdateBackground',
  'getUserProfile',
  'getUserInfo',
  'getPhoneNumber',
  'getRealtimePhoneNumber',
  'chooseAvatar',
  'getWeRunData',
  'getClipboardData',
  'setClipboardData',
  'saveImageToPhotosAlbum',
  'saveVideoToPhotosAlbum',
  'startRecord',
  'getRecorderManager',
  'createCameraContext',
  'chooseLicensePlate',
  'addPhoneContact',
  'addPhoneCalendar',
  'openBluetoothAdapter',
  'createVKSession',
];
