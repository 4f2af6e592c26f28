import crypto from 'node:crypto';

/**
 * Short-lived download links signed with FILE_URL_SECRET (invoice PDFs, uploaded photos): the
 * link carries `exp` (unix seconds) and `sig` = HMAC-SHA256(secret, "<subject>:<exp>"), so a
 * WeChat `<Image>`, `downloadFile` or a browser tab can fetch it without a bearer header, and it
 * stops working when it expires. Whoever hands out a link has checked that the caller may see it.
 */
export class LinkSigner {
  constructor(
    private readonly secret: string,
    private readonly clock: () => Date,
  ) {}

  /**
   * A signature valid for at least `ttlSeconds`; the expiry is rounded up to `roundSeconds` so
   * that views built a moment apart give the same link (the client's image cache keeps working).
   */
  sign(subject: string, ttlSeconds: number, roundSeconds = 1, now = this.clock()): { exp: number; sig: string } {
    const exp = Math.ceil((Math.floor(now.getTime() / 1000) + ttlSeconds) / roundSeconds) * roundSeconds;
    return { exp, sig: this.mac(subject, exp) };
  }

  /** `exp=…&sig=…` for a URL */
  query(subject: string, ttlSeconds: number, roundSeconds = 1): string {
    const { exp, sig } = this.sign(subject, ttlSeconds, roundSeconds);
    return `exp=${exp}&sig=${sig}`;
  }

  verify(subject: string, exp: number, sig: string): boolean {
    if (!Number.isFinite(exp) || exp * 1000 < this.clock().getTime()) return false;
    const expected = Buffer.from(this.mac(subject, exp));
    const got = Buffer.from(sig);
    return expected.length === got.length && crypto.timingSafeEqual(expected, got);
  }

  private mac(subject: string, exp: number): string {
    return crypto.createHmac('sha256', this.secret).update(`${subject}:${exp}`).digest('base64url');
  }
}
