import { InvoiceTitleInput, type InvoiceTitleView } from '@heat-butler/shared';
import { AppError } from '../../platform/errors';
import { withTx } from '../../platform/db/data-source';
import { InvoiceTitle, type TitleSnapshot } from './entities';
import type { InvoicesOptions } from './service';

const MAX_TITLES = 20;

/** A resident's invoice titles (抬头): at most 20, one default (used for automatic invoices). */
export class InvoiceTitles {
  constructor(private o: Pick<InvoicesOptions, 'ds'>) {}

  async titles(residentId: number): Promise<InvoiceTitleView[]> {
    const rows = await this.o.ds.getRepository(InvoiceTitle).find({ where: { residentId }, order: { isDefault: 'DESC', id: 'ASC' } });
    return rows.map(titleView);
  }

  async saveTitle(residentId: number, input: InvoiceTitleInput, titleId?: number): Promise<InvoiceTitleView> {
    const t = InvoiceTitleInput.parse(input);
    return withTx(this.o.ds, async (em) => {
      let row: InvoiceTitle;
      if (titleId) {
        const found = await em.findOne(InvoiceTitle, { where: { id: titleId, residentId } });
        if (!found) throw new AppError('INVOICE_TITLE_NOT_FOUND');
        row = found;
      } else {
        if ((await em.count(InvoiceTitle, { where: { residentId } })) >= MAX_TITLES) throw new AppError('INVOICE_TITLE_LIMIT');
        row = em.create(InvoiceTitle, { residentId });
      }
      Object.assign(row, {
        kind: t.kind,
        name: t.name,
        taxId: t.taxId ?? null,
        taxIdConfirmed: t.confirmTaxId,
        address: t.address ?? null,
        phone: t.phone ?? null,
        bank: t.bank ?? null,
        bankAccount: t.bankAccount ?? null,
        email: t.email ?? null,
        isDefault: t.isDefault,
      });
      if (t.isDefault) await em.update(InvoiceTitle, { residentId, isDefault: true }, { isDefault: false });
      await em.save(row);
      return titleView(row);
    });
  }

  async deleteTitle(residentId: number, titleId: number): Promise<void> {
    const res = await this.o.ds.getRepository(InvoiceTitle).delete({ id: titleId, residentId });
    if (!res.affected) throw new AppError('INVOICE_TITLE_NOT_FOUND');
  }
}

/** What the invoice prints of a title (not its mail address or flags). */
export function snapshot(t: TitleSnapshot): TitleSnapshot {
  return { kind: t.kind, name: t.name, taxId: t.taxId, address: t.address, phone: t.phone, bank: t.bank, bankAccount: t.bankAccount };
}

export function titleView(t: InvoiceTitle): InvoiceTitleView {
  return {
    id: t.id,
    kind: t.kind,
    name: t.name,
    taxId: t.taxId,
    taxIdConfirmed: t.taxIdConfirmed,
    address: t.address,
    phone: t.phone,
    bank: t.bank,
    bankAccount: t.bankAccount,
    email: t.email,
    isDefault: t.isDefault,
  };
}
