/**
 * Compact memory for one run: which ledger entries the bill matched (a bitmap over the day's ids)
 * and which keys the run may have recorded (a fixed-size Bloom filter). Neither grows with the
 * number of bill rows or discrepancies in any way that matters (125 KB per million ledger ids, 2 MB
 * of filter), so a bill where nothing matches costs the same memory as one where everything does.
 */

/**
 * The ledger entries a bill matched: one bit per id over the day's id range [lo, hi] (1M entries
 * = 125 KB), a small set for entries of other days (a payment credited just after midnight).
 */
export class LedgerMarks {
  private bits: Uint8Array;
  private extra = new Set<number>();
  constructor(
    private lo: number,
    hi: number,
  ) {
    this.bits = new Uint8Array(hi >= lo ? ((hi - lo) >> 3) + 1 : 0);
  }
  /** mark `id`; true when it was marked already */
  mark(id: number): boolean {
    const k = id - this.lo;
    if (k >= 0 && k >> 3 < this.bits.length) {
      const bit = 1 << (k & 7);
      const was = (this.bits[k >> 3]! & bit) !== 0;
      this.bits[k >> 3]! |= bit;
      return was;
    }
    if (this.extra.has(id)) return true;
    this.extra.add(id);
    return false;
  }
  has(id: number): boolean {
    const k = id - this.lo;
    if (k >= 0 && k >> 3 < this.bits.length) return (this.bits[k >> 3]! & (1 << (k & 7))) !== 0;
    return this.extra.has(id);
  }
}

/**
 * "Maybe seen" for strings: a Bloom filter of 2^24 bits (2 MB) with 4 probes. A miss is certain
 * (never added); a hit is checked exactly by the caller (in the database). With a million keys
 * about 0.2% of lookups are false hits, each costing one key in a batched query.
 */
export class KeyFilter {
  private static BITS = 1 << 24;
  private bits = new Uint32Array(KeyFilter.BITS >>> 5);

  private probes(key: string): [number, number] {
    // two 32-bit hashes (FNV-1a and a multiplicative one), combined as h1 + i·h2
    let h1 = 0x811c9dc5;
    let h2 = 0x9747b28c;
    for (let i = 0; i < key.length; i++) {
      const c = key.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995);
      h2 ^= h2 >>> 15;
    }
    return [h1 >>> 0, (h2 >>> 0) | 1];
  }

  add(key: string) {
    this.addIfNew(key);
  }

  /** Add `key`; true when the filter may have had it already (every probe's bit was set), as mightHave() before add(), hashing once. */
  addIfNew(key: string): boolean {
    const [a, b] = this.probes(key);
    let had = true;
    for (let i = 0; i < 4; i++) {
      const bit = (a + Math.imul(i, b)) & (KeyFilter.BITS - 1);
      const mask = 1 << (bit & 31);
      if ((this.bits[bit >>> 5]! & mask) === 0) had = false;
      this.bits[bit >>> 5]! |= mask;
    }
    return had;
  }

  mightHave(key: string): boolean {
    const [a, b] = this.probes(key);
    for (let i = 0; i < 4; i++) {
      const bit = (a + Math.imul(i, b)) & (KeyFilter.BITS - 1);
      if ((this.bits[bit >>> 5]! & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }
}
