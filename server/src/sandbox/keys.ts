/**
 * The sandbox's fixed, PUBLIC, sandbox-only keys (see keys/README.md): the merchant's API key
 * pair and the simulated WeChat Pay platform's key pair. The BFF loads these in sandbox mode;
 * production loads real ones from the paths in its config.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const dir = path.join(__dirname, 'keys');

export const SANDBOX_KEY_PATHS = {
  merchantKey: path.join(dir, 'apiclient_key.pem'),
  merchantCert: path.join(dir, 'apiclient_cert.pem'),
  platformKey: path.join(dir, 'platform_key.pem'),
  platformCert: path.join(dir, 'platform_cert.pem'),
} as const;

export interface SandboxKeys {
  merchantKeyPem: string;
  merchantCertPem: string;
  /** uppercase hex, as openssl prints it */
  merchantSerial: string;
  platformKeyPem: string;
  platformCertPem: string;
  /** uppercase hex: the `Wechatpay-Serial` of the simulator's signatures */
  platformSerial: string;
  /** the platform public key as SPKI PEM (what "public-key mode" merchants download) */
  platformPublicKeyPem: string;
}

let cached: SandboxKeys | null = null;

export function sandboxKeys(): SandboxKeys {
  if (cached) return cached;
  const read = (p: string) => fs.readFileSync(p, 'utf8');
  const merchantCertPem = read(SANDBOX_KEY_PATHS.merchantCert);
  const platformCertPem = read(SANDBOX_KEY_PATHS.platformCert);
  const platformCert = new crypto.X509Certificate(platformCertPem);
  cached = {
    merchantKeyPem: read(SANDBOX_KEY_PATHS.merchantKey),
    merchantCertPem,
    merchantSerial: new crypto.X509Certificate(merchantCertPem).serialNumber.toUpperCase(),
    platformKeyPem: read(SANDBOX_KEY_PATHS.platformKey),
    platformCertPem,
    platformSerial: platformCert.serialNumber.toUpperCase(),
    platformPublicKeyPem: platformCert.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
  return cached;
}

/** The merchant's key pair and the platform certificate a pay client needs, from the sandbox keys. */
export function sandboxPayCredentials(): { merchantCertPem: string; merchantKeyPem: string; platformCerts: { serial: string; pem: string }[] } {
  const k = sandboxKeys();
  return { merchantCertPem: k.merchantCertPem, merchantKeyPem: k.merchantKeyPem, platformCerts: [{ serial: k.platformSerial, pem: k.platformCertPem }] };
}
