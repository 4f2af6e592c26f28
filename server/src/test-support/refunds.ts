import { vi } from 'vitest';
import type { FindOptionsWhere } from 'typeorm';
import type { Host } from '../host';
import { Refund } from '../modules/payments/entities';

/**
 * WeChat confirms these refunds (every one when no filter), as it would some seconds after
 * accepting them, instead of the sandbox's own 3 s later (a test that ran on inside those 3 s found
 * a refund still 在途). Waits until each has reached WeChat (处理中, or already 已退款): a host with
 * its own outbox worker (the e2e host) may hold the refund's message, which `outbox.drain()` does
 * not wait for. Then confirms each (a no-op when done) and waits until the BFF has every one 已退款.
 */
export async function confirmRefunds(host: Host, where: FindOptionsWhere<Refund> = {}): Promise<Refund[]> {
  const repo = host.ds.getRepository(Refund);
  const states = (ok: string[]) =>
    vi.waitFor(
      async () => {
        const rows = await repo.find({ where });
        if (!rows.length || !rows.every((r) => ok.includes(r.status))) throw new Error(`refunds ${rows.map((r) => r.status).join(', ') || 'none yet'}`);
        return rows;
      },
      { timeout: 15_000, interval: 100 },
    );
  await host.services.outbox.drain();
  for (const r of await states(['processing', 'success'])) await host.sandbox!.state.completeRefund(r.outRefundNo);
  await host.sandbox!.state.settleNotifications();
  return states(['success']);
}
