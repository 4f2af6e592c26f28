import fs from 'node:fs';
import path from 'node:path';
import { fenToYuanString } from '@heat-butler/shared';
import { AppError } from '../../platform/errors';
import { Invoice } from './entities';
import type { InvoicesOptions } from './service';

/** The invoice PDF: our archived copy, download links, mail. */
export class InvoiceDocuments {
  constructor(private o: InvoicesOptions) {}

  async archive(url: string, number: string): Promise<string | null> {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
      if (!res.ok) throw new Error(`PDF download answered ${res.status}`);
      const bytes = Buffer.from(await res.arrayBuffer());
      const rel = path.join('invoices', `${number}.pdf`);
      const full = path.join(this.o.filesDir, rel);
      await fs.promises.mkdir(path.dirname(full), { recursive: true });
      await fs.promises.writeFile(full, bytes);
      return rel;
    } catch (err: any) {
      // issued all the same; the provider's link still works, archiving is retried on download
      this.o.log.warn({ number, err: { message: err?.message } }, 'invoice PDF not archived');
      return null;
    }
  }

  /** The PDF bytes: our archived copy (archived now if it was missed). */
  async pdf(invoiceId: number): Promise<{ bytes: Buffer; filename: string }> {
    const inv = await this.o.ds.getRepository(Invoice).findOneBy({ id: invoiceId });
    if (!inv) throw new AppError('INVOICE_NOT_FOUND');
    if (!inv.number || (inv.status !== 'issued' && inv.status !== 'reversed')) throw new AppError('INVOICE_NOT_READY');
    let file = inv.pdfFile;
    if (!file && inv.providerPdfUrl) {
      file = await this.archive(inv.providerPdfUrl, inv.number);
      if (file) await this.o.ds.getRepository(Invoice).update(inv.id, { pdfFile: file });
    }
    if (!file) throw new AppError('INVOICE_NOT_READY');
    return { bytes: await fs.promises.readFile(path.join(this.o.filesDir, file)), filename: `电子发票-${inv.number}.pdf` };
  }

  async mail(invoiceId: number, email: string): Promise<void> {
    const inv = await this.o.ds.getRepository(Invoice).findOneByOrFail({ id: invoiceId });
    const { bytes, filename } = await this.pdf(invoiceId);
    try {
      await this.o.mailer.send({
        to: email,
        subject: `您的供暖费电子发票（${inv.number}）`,
        text: `您好：\n\n附件是您缴纳供暖费的电子发票，发票号码 ${inv.number}，金额 ¥${fenToYuanString(inv.amountFen)}。\n\n此邮件由系统自动发送，请勿回复。`,
        attachments: [{ filename, content: bytes, contentType: 'application/pdf' }],
      });
    } catch (err: any) {
      this.o.log.warn({ invoiceId, err: { message: err?.message } }, 'invoice mail failed');
      throw new AppError('MAIL_UNAVAILABLE');
    }
  }

  /** A download link valid for 10 minutes (WeChat's downloadFile and a browser can both use it). */
  signedPdfUrl(invoiceId: number, now = this.o.clock()): string {
    const { exp, sig } = this.o.links.sign(`invoice:${invoiceId}`, 600, 1, now);
    return `${this.o.publicBaseUrl}/api/v1/invoice-files/${invoiceId}?exp=${exp}&sig=${sig}`;
  }

  verifyPdfLink(invoiceId: number, exp: number, sig: string): boolean {
    return this.o.links.verify(`invoice:${invoiceId}`, exp, sig);
  }
}
