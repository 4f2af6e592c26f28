/**
 * The demo company for `npm start` and for tests that want a realistic data set:
 * 2 areas, 6 buildings, 216 households with believable addresses, names and areas.
 * Deterministic: the same accounts every time, so the README and tests can name them.
 */
import type { StaffRole } from '@heat-butler/shared';
import type { Services } from '../app';

const SURNAMES = '王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎'.split('');
const GIVEN =
  '建国 秀兰 志强 桂英 海燕 玉兰 立新 淑珍 德明 晓东 丽娟 春生 红梅 国庆 凤霞 文华 永刚 雪梅 振华 淑芬 宏伟 金凤 俊杰 丹丹 子涵 欣怡 浩然 明辉 玉珍 长林'.split(
    ' ',
  );
const PREFIXES = ['138', '139', '135', '136', '150', '151', '158', '186', '187', '131', '132', '155', '133', '153', '189', '177', '199', '166'];

/** A small deterministic PRNG (mulberry32). */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const DEMO_COMPANY = { name: '和煦热力有限公司', hotline: '0431-96009' };

export const DEMO_AREAS = [
  { code: 'A01', name: '南湖片区' },
  { code: 'A02', name: '东站片区' },
];

export const DEMO_BUILDINGS = [
  { area: 0, no: 1, name: '1号楼', address: '长春市朝阳区湖西路166号锦绣家园', substation: '锦绣换热站' },
  { area: 0, no: 2, name: '2号楼', address: '长春市朝阳区湖西路166号锦绣家园', substation: '锦绣换热站' },
  { area: 0, no: 3, name: '5号楼', address: '长春市朝阳区南湖大路2088号南湖新村', substation: '南湖一号站' },
  { area: 1, no: 1, name: '3号楼', address: '长春市二道区东盛大街1号东盛小区', substation: '东盛换热站' },
  { area: 1, no: 2, name: '7号楼', address: '长春市二道区东盛大街1号东盛小区', substation: '东盛换热站' },
  { area: 1, no: 3, name: '12号楼', address: '长春市二道区吉林大路3399号远达城市花园', substation: '远达换热站' },
];

export interface DemoHousehold {
  accountNo: string;
  building: number; // index into DEMO_BUILDINGS
  unitNo: string;
  roomNo: string;
  ownerName: string;
  contactPhone: string;
  heatedArea: number; // hundredths of m²
  use: 'residential' | 'commercial';
  status: 'active' | 'stopped';
}

/** 6 buildings × 2 units × 6 floors × 3 rooms = 216 households. */
export function demoHouseholds(): DemoHousehold[] {
  const rand = prng(20262027);
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
  const out: DemoHousehold[] = [];
  DEMO_BUILDINGS.forEach((b, bi) => {
    for (let unit = 1; unit <= 2; unit++)
      for (let floor = 1; floor <= 6; floor++)
        for (let r = 1; r <= 3; r++) {
          const roomNo = `${floor}0${r}`;
          const phone = pick(PREFIXES) + String(Math.floor(rand() * 1e8)).padStart(8, '0');
          const area = 5000 + Math.round(rand() * 100) * 100 + Math.round(rand() * 99);
          const shop = floor === 1 && r === 3 && unit === 1;
          out.push({
            accountNo: `${String(b.area + 1).padStart(2, '0')}${String(b.no).padStart(2, '0')}${String(unit).padStart(2, '0')}${roomNo.padStart(4, '0')}`,
            building: bi,
            unitNo: String(unit),
            roomNo,
            ownerName: pick(SURNAMES) + pick(GIVEN),
            contactPhone: phone,
            heatedArea: Math.min(area, 15000),
            use: shop ? 'commercial' : 'residential',
            status: rand() < 0.06 ? 'stopped' : 'active',
          });
        }
  });
  return out;
}

export const DEMO_STAFF: { username: string; password: string; name: string; roles: StaffRole[]; areas: number[] }[] = [
  { username: 'admin', password: 'demo-2026', name: '周管理', roles: ['admin'], areas: [0, 1] },
  { username: 'agent1', password: 'demo-2026', name: '李客服', roles: ['agent', 'butler'], areas: [0] },
  { username: 'agent2', password: 'demo-2026', name: '赵客服', roles: ['agent', 'butler'], areas: [1] },
  { username: 'dispatcher1', password: 'demo-2026', name: '孙调度', roles: ['dispatcher'], areas: [0, 1] },
  { username: 'worker1', password: 'demo-2026', name: '钱师傅', roles: ['worker'], areas: [0] },
  { username: 'station1', password: 'demo-2026', name: '吴站长', roles: ['station'], areas: [0, 1] },
  { username: 'finance1', password: 'demo-2026', name: '郑会计', roles: ['finance'], areas: [0, 1] },
];

const households = demoHouseholds();
const fact = (h: DemoHousehold) => ({ accountNo: h.accountNo, ownerName: h.ownerName, phoneLast4: h.contactPhone.slice(-4) });

/**
 * The heating season a demo shown at `now` is about: the one starting this autumn from June on
 * (bills for it go out before it starts, and 报停 is for it), else the one that started last
 * autumn. China time.
 */
export function demoSeasonStartYear(now: Date): number {
  const china = new Date(now.getTime() + 8 * 3600_000);
  return china.getUTCMonth() >= 5 ? china.getUTCFullYear() : china.getUTCFullYear() - 1;
}

/**
 * Two seasons relative to `now`: last season's bills mostly paid at the counter (the rest are
 * arrears), this season's unpaid, with an early-payment discount until Nov 30.
 */
/** A season starting Nov 1 of `start` with the demo's tariffs (and its early-payment discount). */
export function demoSeason(start: number, discount = false) {
  return {
    code: `${start}-${start + 1}`,
    startDate: `${start}-11-01`,
    endDate: `${start + 1}-04-01`,
    dueDate: `${start}-12-31`,
    tariffs: { residential: 2700, commercial: 3800 },
    baseFeeRatioBp: 3000,
    discountBp: discount ? 200 : 0,
    discountUntil: discount ? `${start}-11-30` : null,
    lateFeeDailyBp: 10,
    lateFeeCapBp: 1000,
  };
}

export function demoSeasons(now: Date = new Date()) {
  const y = demoSeasonStartYear(now);
  return [demoSeason(y - 1), demoSeason(y, true)];
}

/** The demo's seasons as of the (test) clock when this module loads. */
export const DEMO_SEASONS = demoSeasons();

/** Households with last season unpaid (arrears): every 17th, starting with the 6th. */
const inArrears = (index: number) => index % 17 === 5;

/** What the README, the demo and the tests refer to. */
export const DEMO = {
  company: DEMO_COMPANY,
  /** active residential accounts, for binding in demos and tests */
  accounts: households
    .filter((h, i) => h.status === 'active' && h.use === 'residential' && !inArrears(i))
    .slice(0, 12)
    .map(fact),
  /** active residential accounts with last season's bill unpaid */
  arrearsAccounts: households.filter((h, i) => h.status === 'active' && h.use === 'residential' && inArrears(i)).map(fact),
  seasons: DEMO_SEASONS,
  staff: DEMO_STAFF.map(({ username, password, roles }) => ({ username, password, roles })),
};

/**
 * Create the demo company through the same services the product uses. Skips if it exists.
 * `nextSeason` (npm start, npm run seed): the season after the current one is set up too (its
 * tariffs, no bills yet), so its 报停/复供 window is open and the whole stop/resume journey can be
 * tried; tests leave it out and create what they need.
 */
export async function seedDemo(
  services: Services,
  now: Date = new Date(),
  opts: { nextSeason?: boolean } = {},
): Promise<{ created: boolean; households: number }> {
  const existing = await services.company.areas();
  if (existing.length) {
    // a demo seeded before the next season was part of it: set it up now (once)
    if (opts.nextSeason) await ensureNextSeason(services, now);
    return { created: false, households: 0 };
  }
  await services.company.ensure(DEMO_COMPANY.name, DEMO_COMPANY.hotline);
  const areas: { id: number }[] = [];
  for (const a of DEMO_AREAS) areas.push(await services.company.createArea(a.code, a.name));
  const buildings: { id: number }[] = [];
  for (const b of DEMO_BUILDINGS)
    buildings.push(await services.accounts.createBuilding({ areaId: areas[b.area].id, name: b.name, address: b.address, substation: b.substation }));
  for (const h of households) {
    const unit = await services.accounts.ensureUnit(buildings[h.building].id, h.unitNo);
    await services.accounts.createAccount({
      accountNo: h.accountNo,
      unitId: unit.id,
      roomNo: h.roomNo,
      ownerName: h.ownerName,
      contactPhone: h.contactPhone,
      heatedArea: h.heatedArea,
      use: h.use,
      status: h.status,
    });
  }
  const seasons = demoSeasons(now);
  for (const season of seasons) {
    await services.billing.createSeason(season);
    await services.billing.issueBills(season.code);
  }
  if (opts.nextSeason) await ensureNextSeason(services, now);
  // last season: paid at the counter before its due date (Dec 20, 10:00 China time), except the arrears
  const arrears = new Set(households.filter((_, i) => inArrears(i)).map((h) => h.accountNo));
  const paidAt = new Date(`${demoSeasonStartYear(now) - 1}-12-20T02:00:00Z`);
  for (const bill of await services.billing.billsOfSeason(seasons[0]!.code)) {
    if (!arrears.has(bill.accountNo)) await services.billing.settleAtCounter(bill.id, paidAt);
  }
  for (const s of DEMO_STAFF)
    await services.identity.createStaff({
      username: s.username,
      password: s.password,
      name: s.name,
      roles: s.roles,
      areaIds: s.areas.map((i) => areas[i].id),
    });
  return { created: true, households: households.length };
}

/** The season after the demo's current one, with the demo's tariffs (no bills): its 报停/复供 window is open. */
async function ensureNextSeason(services: Services, now: Date): Promise<void> {
  const next = demoSeason(demoSeasonStartYear(now) + 1);
  if ((await services.billing.seasons()).some((s) => s.code === next.code)) return;
  await services.billing.createSeason(next);
}
