/**
 * Getting a day's trade bill: stream it from WeChat Pay to a file (hashed on the way by the Pay
 * client), keep it as it came under <billDir>/<YYYY-MM>/<date>-<sha1>.csv, and record a failed or
 * not-ready fetch on the day with when to try again.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { AppError } from '../../platform/errors';
import type { Logger } from '../../platform/logger';
import { PayApiError, type PayClient } from '../../wechat/pay';
import { ReconDay } from './entities';

export interface FetchedBill {
  /** the kept file, or null when WeChat has no bill for the day (no trades) */
  file: string | null;
  hash: string | null;
  bytes: number;
}

export class BillFetcher {
  constructor(private o: { ds: DataSource; pay: PayClient; log: Logger; billDir: string; retryNotReadyMinutes?: number; retryFailedMinutes?: number }) {}

  /**
   * Download and keep the bill. A failure is recorded on the day (nothing else written) and
   * thrown as RECON_BILL_NOT_READY or RECON_FETCH_FAILED.
   */
  async fetch(billDate: string, now: Date): Promise<FetchedBill> {
    const dir = path.join(this.o.billDir, billDate.slice(0, 7));
    await fs.promises.mkdir(dir, { recursive: true });
    const tmp = path.join(dir, `${billDate}.${process.pid}.${Date.now()}.download`);
    try {
      const { hashValue, bytes } = await this.o.pay.downloadTradeBill({ billDate, toFile: tmp });
      return { file: await this.keep(billDate, hashValue, tmp), hash: hashValue, bytes };
    } catch (err) {
      await fs.promises.rm(tmp, { force: true });
      if (err instanceof PayApiError && err.code === 'NO_STATEMENT_EXIST') return { file: null, hash: null, bytes: 0 };
      await this.recordFailure(billDate, now, err);
      throw err instanceof PayApiError && err.code === 'STATEMENT_CREATING'
        ? new AppError('RECON_BILL_NOT_READY', { billDate })
        : new AppError('RECON_FETCH_FAILED', { billDate, reason: err instanceof PayApiError ? err.code : 'ERROR', message: (err as Error)?.message });
    }
  }

  private async recordFailure(billDate: string, now: Date, err: unknown) {
    const notReady = err instanceof PayApiError && err.code === 'STATEMENT_CREATING';
    const repo = this.o.ds.getRepository(ReconDay);
    const day = await repo.findOneByOrFail({ billDate });
    const reconciled = day.status === 'differences' || day.status === 'balanced';
    const minutes = notReady ? (this.o.retryNotReadyMinutes ?? 30) : (this.o.retryFailedMinutes ?? 15);
    const message = err instanceof PayApiError ? `${err.code}: ${err.message}` : String((err as Error)?.message ?? err);
    await repo.update(
      { billDate },
      {
        // an earlier complete report stays as it is: a failed re-run writes nothing but the error
        ...(reconciled ? {} : { status: notReady ? 'not_ready' : 'failed' }),
        lastError: message.slice(0, 500),
        nextAttemptAt: new Date(now.getTime() + minutes * 60_000),
      },
    );
    if (!notReady) this.o.log.warn({ billDate, err: message }, 'trade bill fetch failed');
  }

  /** Keep the downloaded bill as it came (hash-checked), named by date and SHA1: the temp file is renamed into place. */
  private async keep(billDate: string, hash: string, tmp: string): Promise<string> {
    const file = path.join(this.o.billDir, billDate.slice(0, 7), `${billDate}-${hash.toLowerCase()}.csv`);
    if (fs.existsSync(file)) await fs.promises.rm(tmp, { force: true });
    else await fs.promises.rename(tmp, file);
    return file;
  }

  /** The raw bill as kept (for download), or null. */
  async rawBill(billDate: string): Promise<{ file: string; bytes: number } | null> {
    const row = await this.o.ds.getRepository(ReconDay).findOne({ where: { billDate } });
    if (!row?.billFile || !fs.existsSync(row.billFile)) return null;
    return { file: row.billFile, bytes: Number(row.billBytes ?? 0) };
  }
}
