/**
 * Household import: read the whole file, check every row (on its own, against the other rows and
 * against the database), report every problem at once; only a clean file is written, all or
 * nothing, in one transaction with batched upserts. Progress is kept on the job row.
 * The rows are never all in memory: the good ones are staged in a temporary table as they are read
 * (import-stage.ts), checked across rows there, and checked against the database and written a page
 * at a time, so a 1,000,000-row file takes as much memory as a small one.
 */
import fs from 'node:fs';
import type { DataSource } from 'typeorm';
import {
  HOUSEHOLD_COLUMNS,
  IMPORT_STATE_LABEL,
  seasonLabel,
  type ImportIssueView,
  type ImportJobView,
  type ImportState,
  type ImportSummary,
} from '@heat-butler/shared';
import { AppError, errorSummary } from '../../platform/errors';
import { withTx } from '../../platform/db/data-source';
import type { Logger } from '../../platform/logger';
import type { AccountsService } from '../accounts';
import type { BillingService } from '../billing';
import type { CompanyService } from '../company';
import { audit, type AdminActor } from './audit';
import { ImportIssue, ImportJob } from './entities';
import { cleanCell, layoutOf, parseRow, readRows, type HouseholdRow, type SheetLayout } from './households';
import { dropStage, ImportStage } from './import-stage';

/** Problems kept per job (the report lists all of them up to this). */
export const MAX_ISSUES = 100_000;
const RUNNING: ImportState[] = ['queued', 'reading', 'validating', 'writing'];
/** how often a running job proves it is alive, and after how long without a sign of life it is taken as dead */
export const IMPORT_HEARTBEAT_MS = 15_000;
export const IMPORT_STALE_MS = 2 * 60_000;
export const IMPORT_INTERRUPTED = '导入中断，请重新上传';
/** staged rows checked against the database per page */
const PAGE = 20_000;
/** staged rows written per page or statement (SQLite: each page reloads the building list: fewer, larger pages) */
const WRITE_PAGE = 20_000;

export interface ImportDeps {
  ds: DataSource;
  clock: () => Date;
  log: Logger;
  company: CompanyService;
  accounts: AccountsService;
  billing: BillingService;
}

export type ImportProgress = { state: ImportState; processed: number; total: number | null };

const COLUMN_ORDER = new Map<string, number>(HOUSEHOLD_COLUMNS.map((c, i) => [c.header, i]));

export class HouseholdImporter {
  constructor(private d: ImportDeps) {}

  async createJob(input: { fileName: string; format: 'xlsx' | 'csv'; dryRun: boolean; createdBy: number | null }): Promise<ImportJob> {
    await this.failStale();
    if (!input.dryRun) {
      const busy = await this.d.ds
        .getRepository(ImportJob)
        .createQueryBuilder('j')
        .where('j.state IN (:...s) AND j.dryRun = :f', { s: RUNNING, f: false })
        .getCount();
      if (busy) throw new AppError('IMPORT_BUSY');
    }
    const repo = this.d.ds.getRepository(ImportJob);
    return repo.save(
      repo.create({
        ...input,
        state: 'queued',
        processed: 0,
        total: null,
        issueCount: 0,
        summary: null,
        error: null,
        finishedAt: null,
        updatedAt: this.d.clock(),
      }),
    );
  }

  /**
   * A job whose process died (restart, crash) stays 'running' forever: without a heartbeat for
   * IMPORT_STALE_MS it is failed, so it neither blocks new imports nor shows progress that never ends.
   * Nothing of it was written (the write is one transaction); the rows it had staged are dropped.
   */
  async failStale(): Promise<number> {
    const now = this.d.clock();
    const stale = { s: RUNNING, stale: new Date(now.getTime() - IMPORT_STALE_MS) };
    const where = 'state IN (:...s) AND (updatedAt < :stale OR (updatedAt IS NULL AND createdAt < :stale))';
    const ids = (await this.d.ds.getRepository(ImportJob).createQueryBuilder().select('id').where(where, stale).getRawMany()).map((r) => Number(r.id));
    if (!ids.length) return 0;
    const res = await this.d.ds
      .createQueryBuilder()
      .update(ImportJob)
      .set({ state: 'failed', error: IMPORT_INTERRUPTED, finishedAt: now, processed: 0 })
      .where(`id IN (:...ids) AND ${where}`, { ...stale, ids })
      .execute();
    // the rows a dead job had staged
    for (const id of ids)
      await dropStage(this.d.ds, id).catch((err) => this.d.log.warn({ error: errorSummary(err), jobId: id }, 'dropping a stale import stage failed'));
    return res.affected ?? 0;
  }

  /** Run a job to its end (never throws: the outcome is on the job). */
  async run(jobId: number, file: string, actor: AdminActor, onProgress?: (p: ImportProgress) => void): Promise<ImportJob> {
    const repo = this.d.ds.getRepository(ImportJob);
    const job = await repo.findOneByOrFail({ id: jobId });
    const started = performance.now();
    let lastWrite = 0;
    const progress = async (state: ImportState, processed: number, total: number | null, force = false) => {
      onProgress?.({ state, processed, total });
      const now = performance.now();
      if (!force && now - lastWrite < 300) return;
      lastWrite = now;
      await repo.update(jobId, { state, processed, total, updatedAt: this.d.clock() });
    };
    // a heartbeat also through the long steps without progress (checks against the database, the write)
    const heartbeat = setInterval(() => {
      void repo.update(jobId, { updatedAt: this.d.clock() }).catch((err) => this.d.log.warn({ error: errorSummary(err), jobId }, 'import heartbeat failed'));
    }, IMPORT_HEARTBEAT_MS);
    heartbeat.unref?.();
    let stage: ImportStage | null = null;
    try {
      // ---- read and check each row; stage the good ones ----
      await progress('reading', 0, null, true);
      stage = await ImportStage.open(this.d.ds, jobId);
      let layout: SheetLayout | null = null;
      const issues: ImportIssueView[] = [];
      let dataRows = 0;
      let headerBroken = false;
      const known = {
        areaCodes: new Set((await this.d.company.areas()).map((a) => a.code.toUpperCase())),
        seasons: new Set((await this.d.billing.seasons()).map((s) => s.code)),
      };
      for await (const raw of readRows(file, job.format)) {
        if (raw.cells.every((c) => !cleanCell(c))) continue;
        if (!layout) {
          const r = layoutOf(raw.cells, raw.row);
          issues.push(...r.issues);
          layout = r.layout;
          if (r.issues.length) {
            headerBroken = true;
            break; // a wrong header makes every row wrong: report the header only
          }
          continue;
        }
        dataRows++;
        const r = parseRow(raw, layout, known);
        if (r.row) await stage.add(r.row);
        for (const i of r.issues) if (issues.length < MAX_ISSUES) issues.push(i);
        if (dataRows % 1000 === 0) await progress('reading', dataRows, null);
      }
      await stage.done();
      if (!layout) issues.push({ row: 1, column: '', value: '', message: '文件是空的：第一行应为表头（请使用导入模板）' });
      else if (!dataRows && !issues.length) issues.push({ row: 2, column: '', value: '', message: '文件中没有住户数据' });

      // ---- check rows against each other and the database ----
      await progress('validating', dataRows, dataRows, true);
      // rows that passed their own checks are also checked against each other and the database
      const plan = layout && dataRows && !headerBroken ? await this.plan(stage, issues) : null;
      if (issues.length || !plan) return await this.finish(jobId, 'rejected', dataRows, issues, null, null);
      if (job.dryRun) return await this.finish(jobId, 'done', dataRows, [], { ...plan.summary, seconds: secs(started) }, null);

      // ---- write, all or nothing: buildings and units first, then the accounts page by page ----
      const total = stage.count;
      const staged = stage;
      await progress('writing', 0, total, true);
      const summary = await withTx(this.d.ds, async (em) => {
        const res = await this.d.accounts.upsertHouseholds(em, { buildings: plan.buildings, units: plan.units, accounts: [] });
        let written = 0;
        let arrearsBills = 0;
        const writeArrears = async (rows: HouseholdRow[]) => {
          const withArrears = rows.filter((r) => r.arrears.length);
          if (!withArrears.length) return;
          const ids = await this.d.accounts.idsByAccountNo(
            withArrears.map((r) => r.accountNo),
            em,
          );
          arrearsBills += await this.d.billing.importArrears(
            em,
            withArrears.flatMap((r) => r.arrears.map((a) => ({ accountId: ids.get(r.accountNo)!, seasonId: plan.seasonIds.get(a.season)!, amountFen: a.fen }))),
          );
        };
        if (staged.mysql) {
          // MySQL/MariaDB: the accounts go from the stage into the accounts table inside the
          // database, a range of rows per statement; then the arrears (few) through the process
          await staged.mapUnits(
            em,
            plan.units.map((u, i) => ({ areaCode: u.areaCode, buildingName: u.buildingName, unitNo: u.no, areaId: u.areaId, ...res.unitIds[i]! })),
          );
          const last = await staged.lastRow(em);
          for (let after = 0; after < last; after += WRITE_PAGE) {
            await this.d.accounts.upsertAccountsFrom(em, staged.accountSource(after, after + WRITE_PAGE));
            await progress('writing', Math.min(total, after + WRITE_PAGE), total);
          }
          for await (const page of staged.arrearsPages(WRITE_PAGE, em)) await writeArrears(page);
        } else {
          for await (const page of staged.pages(WRITE_PAGE, em)) {
            const units = new Map(
              page.map((r) => [
                `${r.areaCode}\u0000${r.buildingName}\u0000${r.unitNo}`,
                { areaId: plan.areaIds.get(r.areaCode)!, buildingName: r.buildingName, no: r.unitNo },
              ]),
            );
            await this.d.accounts.upsertHouseholds(
              em,
              { buildings: [], units: [...units.values()], accounts: page.map((r) => ({ ...r, areaId: plan.areaIds.get(r.areaCode)! })) },
              (n) => progress('writing', written + n, total),
            );
            written += page.length;
            await writeArrears(page);
          }
        }
        const summary: ImportSummary = {
          ...plan.summary,
          unitsCreated: res.unitsCreated,
          buildingsCreated: res.buildingsCreated.length,
          arrearsBills,
          seconds: secs(started),
        };
        await audit(em, this.d.clock(), actor, 'import.households', { type: 'import_job', id: jobId }, null, { fileName: job.fileName, ...summary });
        return { summary, created: res.buildingsCreated };
      });
      // new buildings were announced (building.created) inside the import's transaction: the groups
      // module opens their groups after commit, through the outbox
      return await this.finish(jobId, 'done', total, [], { ...summary.summary, seasonBills: await this.unbilled() }, null);
    } catch (err) {
      const message = err instanceof AppError ? err.code : String((err as Error)?.message ?? err);
      this.d.log.error({ error: errorSummary(err), jobId }, 'household import failed');
      return this.finish(jobId, 'failed', 0, [], null, message.slice(0, 500)).catch(() => job);
    } finally {
      clearInterval(heartbeat);
      await stage?.close();
    }
  }

  /**
   * Checks across rows (queries over the stage) and against the database (a page of staged rows at
   * a time); what will be written: the file's buildings and units (few), and the summary.
   */
  private async plan(stage: ImportStage, issues: ImportIssueView[]) {
    const add = (row: number, column: string, value: string, message: string) => {
      if (issues.length < MAX_ISSUES) issues.push({ row, column, value: value.slice(0, 100), message });
    };
    const areas = new Map((await this.d.company.areas()).map((a) => [a.code.toUpperCase(), a.id]));
    const seasons = new Map((await this.d.billing.seasons()).map((s) => [s.code, s.id]));

    // in the file: one row per account number, one account per room, one address per building
    for (const d of await stage.duplicateAccounts(MAX_ISSUES)) add(d.rowNo, '户号', d.accountNo, `户号与第${d.firstRow}行重复`);
    for (const d of await stage.roomClashes(MAX_ISSUES)) add(d.rowNo, '房号', d.roomNo, `该房间与第${d.firstRow}行（户号${d.firstAccount}）重复`);
    for (const d of await stage.addressClashes(MAX_ISSUES))
      add(d.rowNo, '楼栋地址', d.buildingAddress, `同一楼栋的地址与第${d.firstRow}行不一致（${d.firstAddress}）`);

    // against the database: rooms taken by other account numbers; arrears on settled bills
    const buildings = await this.d.accounts.listBuildings();
    const buildingId = new Map(buildings.map((b) => [`${b.areaId}\u0000${b.name}`, b]));
    const units = await this.d.accounts.unitsOfBuildings(buildings.map((b) => b.id));
    const unitId = new Map(units.map((u) => [`${u.buildingId}\u0000${u.no}`, u.id]));
    const fileBuildings = await stage.buildings();
    let buildingsUpdated = 0;
    for (const r of fileBuildings) {
      const b = buildingId.get(`${areas.get(r.areaCode)}\u0000${r.buildingName}`);
      if (b && b.address !== r.buildingAddress) buildingsUpdated++;
    }
    let rows = 0;
    let accountsCreated = 0;
    let arrearsBills = 0;
    for await (const page of stage.pages(PAGE)) {
      rows += page.length;
      arrearsBills += page.reduce((n, r) => n + r.arrears.length, 0);
      const unitOf = (r: HouseholdRow) => {
        const b = buildingId.get(`${areas.get(r.areaCode)}\u0000${r.buildingName}`);
        return b ? unitId.get(`${b.id}\u0000${r.unitNo}`) : undefined;
      };
      const pageUnits = [...new Set(page.map(unitOf).filter((u): u is number => u !== undefined))];
      const occupants = new Map((await this.d.accounts.occupants(pageUnits)).map((o) => [`${o.unitId}\u0000${o.roomNo}`, o.accountNo]));
      for (const r of page) {
        const u = unitOf(r);
        const occupant = u === undefined ? undefined : occupants.get(`${u}\u0000${r.roomNo}`);
        if (occupant && occupant !== r.accountNo) add(r.row, '房号', r.roomNo, `该房间已登记为户号${occupant}，同一房间不能有两个户号`);
      }
      const existing = await this.d.accounts.idsByAccountNo(page.map((r) => r.accountNo));
      accountsCreated += page.filter((r) => !existing.has(r.accountNo)).length;
      const withArrears = page.filter((r) => r.arrears.length && existing.has(r.accountNo));
      if (!withArrears.length) continue;
      const seasonIds = [...new Set(withArrears.flatMap((r) => r.arrears.map((a) => seasons.get(a.season)).filter((x): x is number => x !== undefined)))];
      const statuses = new Map(
        (
          await this.d.billing.billStatuses(
            withArrears.map((r) => existing.get(r.accountNo)!),
            seasonIds,
          )
        ).map((b) => [`${b.accountId}\u0000${b.seasonId}`, b.status]),
      );
      for (const r of withArrears) {
        for (const a of r.arrears) {
          const st = statuses.get(`${existing.get(r.accountNo)}\u0000${seasons.get(a.season)}`);
          if (st === 'paid') add(r.row, `欠费${a.season}（元）`, (a.fen / 100).toFixed(2), `该户${a.season}采暖季账单已缴清，不能再导入欠费`);
          else if (st === 'void') add(r.row, `欠费${a.season}（元）`, (a.fen / 100).toFixed(2), `该户${a.season}采暖季账单已作废，不能导入欠费`);
        }
      }
    }
    if (issues.length) return null;

    const buildingsOut = fileBuildings.map((r) => ({ areaId: areas.get(r.areaCode)!, name: r.buildingName, address: r.buildingAddress }));
    const unitsOut = (await stage.units()).map((u) => ({ areaCode: u.areaCode, areaId: areas.get(u.areaCode)!, buildingName: u.buildingName, no: u.unitNo }));
    const summary: ImportSummary = {
      rows,
      buildingsCreated: buildingsOut.filter((b) => !buildingId.has(`${b.areaId}\u0000${b.name}`)).length,
      buildingsUpdated,
      unitsCreated: unitsOut.filter((u) => {
        const b = buildingId.get(`${u.areaId}\u0000${u.buildingName}`);
        return !b || !unitId.has(`${b.id}\u0000${u.no}`);
      }).length,
      accountsCreated,
      accountsUpdated: rows - accountsCreated,
      arrearsBills,
      seconds: 0,
    };
    return { buildings: buildingsOut, units: unitsOut, areaIds: areas, seasonIds: seasons, summary };
  }

  /** The season billed now and how many households have no bill for it yet (null: no season, or it can't be read). */
  private async unbilled(): Promise<ImportSummary['seasonBills']> {
    try {
      const season = await this.d.billing.currentSeason();
      if (!season) return null;
      // counted, not listed: seasonBills() holds every account
      return { season: season.code, label: seasonLabel(season.code), unbilled: await this.d.billing.unbilledCount(season.code) };
    } catch (err) {
      this.d.log.warn({ error: errorSummary(err) }, 'counting the households without a bill after an import failed');
      return null;
    }
  }

  private async finish(
    jobId: number,
    state: ImportState,
    total: number,
    issues: ImportIssueView[],
    summary: ImportSummary | null,
    error: string | null,
  ): Promise<ImportJob> {
    issues.sort((a, b) => a.row - b.row || (COLUMN_ORDER.get(a.column) ?? 99) - (COLUMN_ORDER.get(b.column) ?? 99));
    for (let i = 0; i < issues.length; i += 1000) {
      await this.d.ds
        .getRepository(ImportIssue)
        .insert(
          issues
            .slice(i, i + 1000)
            .map((x) => ({ jobId, row: x.row, column: x.column.slice(0, 40), value: x.value.slice(0, 100), message: x.message.slice(0, 200) })),
        );
    }
    await this.d.ds.getRepository(ImportJob).update(jobId, {
      state,
      processed: state === 'done' ? total : 0,
      total,
      issueCount: issues.length,
      summary,
      error,
      finishedAt: this.d.clock(),
      updatedAt: this.d.clock(),
    });
    return this.d.ds.getRepository(ImportJob).findOneByOrFail({ id: jobId });
  }

  async view(jobId: number, issueLimit = 500): Promise<ImportJobView> {
    await this.failStale();
    return this.viewOf(jobId, issueLimit);
  }

  private async viewOf(jobId: number, issueLimit: number): Promise<ImportJobView> {
    const job = await this.d.ds.getRepository(ImportJob).findOneBy({ id: jobId });
    if (!job) throw new AppError('NOT_FOUND');
    const issues = await this.issues(jobId, issueLimit);
    const percent = job.state === 'done' ? 100 : job.state === 'writing' && job.total ? Math.floor((job.processed / job.total) * 100) : 0;
    return {
      id: job.id,
      fileName: job.fileName,
      format: job.format,
      dryRun: job.dryRun,
      state: job.state,
      stateLabel: IMPORT_STATE_LABEL[job.state],
      processed: job.processed,
      total: job.total,
      percent,
      summary: job.summary,
      issueCount: job.issueCount,
      issues,
      createdAt: job.createdAt.toISOString(),
      finishedAt: job.finishedAt ? job.finishedAt.toISOString() : null,
      error: job.error,
    };
  }

  async issues(jobId: number, limit = MAX_ISSUES): Promise<ImportIssueView[]> {
    const rows = await this.d.ds.getRepository(ImportIssue).find({ where: { jobId }, order: { id: 'ASC' }, take: limit });
    return rows.map((r) => ({ row: r.row, column: r.column, value: r.value, message: r.message }));
  }

  async jobs(limit = 20): Promise<ImportJobView[]> {
    await this.failStale();
    const rows = await this.d.ds.getRepository(ImportJob).find({ order: { id: 'DESC' }, take: limit });
    return Promise.all(rows.map((j) => this.viewOf(j.id, 0)));
  }

  /** Start a job in the background; the uploaded file is removed when it ends. */
  start(jobId: number, file: string, actor: AdminActor): void {
    void this.run(jobId, file, actor).finally(() => fs.promises.rm(file, { force: true }).catch(() => undefined));
  }
}

const secs = (started: number) => Math.round((performance.now() - started) / 100) / 10;
