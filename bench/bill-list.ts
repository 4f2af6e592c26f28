/**
 * The bill list's bench set-up, shared by bench/bills.ts (BFF against the bare handler) and
 * bench/ab.ts (builds against each other and the bare handler): the in-process test app on a fresh
 * MariaDB database with the demo seed, a resident with 3 bound demo accounts and 3 seasons of bills
 * each, and the bare handler's SQL for the same rows.
 */
import { startTestApp, type TestApp } from '../server/src/test-support/app';
import { DEMO, demoSeason } from '../server/src/demo/seed';
import { BILL_SUMMARY_COLUMNS, SEASON_COLUMNS, selectList } from '../server/src/modules/billing/views';

export interface BillListSetup {
  t: TestApp;
  /** the resident's bearer token */
  token: string;
  residentId: number;
}

export async function billListSetup(): Promise<BillListSetup> {
  console.log('starting the BFF (MariaDB, demo seed)…');
  const t = await startTestApp({ seedDemo: true });
  try {
    const { services, ds } = t;
    const token = await t.loginResident('bench-user');
    for (const a of DEMO.accounts.slice(0, 3)) {
      const r = await t.call('POST', '/api/v1/accounts/bind', { token, body: { accountNo: a.accountNo, ownerName: a.ownerName } });
      if (r.status !== 201) throw new Error(`bind ${a.accountNo}: ${r.status} ${JSON.stringify(r.body)}`);
    }
    // two more seasons on top of the demo's: a list with history, like a resident of some years
    for (const y of [2030, 2031]) {
      await services.billing.createSeason(demoSeason(y));
      await services.billing.issueBills(`${y}-${y + 1}`);
    }
    const [resident] = await ds.query('SELECT id FROM resident ORDER BY id DESC LIMIT 1');
    return { t, token, residentId: Number(resident.id) };
  } catch (err) {
    await t.close();
    throw err;
  }
}

/**
 * The bare handler's query: the same rows and columns with the same joins as the BFF's one query
 * (the bill's figures without its lines, seasons, the bound accounts with their unit and building);
 * the bare handler returns them as they come. Prepared, as the BFF's (readRows): the text protocol
 * cost the bare side some 30 µs of node and 40 µs of database CPU a request more.
 */
export const BARE_BILLS_SQL = `SELECT ${selectList([...BILL_SUMMARY_COLUMNS, ...SEASON_COLUMNS]).join(', ')}, a.accountNo, a.roomNo, a.status AS accountStatus, u.no AS unitNo, bl.name AS buildingName, bl.address AS buildingAddress
      FROM bill b JOIN season s ON s.id = b.seasonId
      JOIN binding bd ON bd.accountId = b.accountId AND bd.residentId = ? AND bd.unboundAt IS NULL
      JOIN account a ON a.id = bd.accountId JOIN unit u ON u.id = a.unitId JOIN building bl ON bl.id = a.buildingId`;
