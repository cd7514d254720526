import { readFile } from 'node:fs/promises';
import { importPKCS8, SignJWT } from 'jose';
import type { Clock } from '../../care/clock.js';
import type { AppStoreAccount } from './config.js';
import { keyHint } from './errors.js';
import { TOKEN_LIFETIME, TOKEN_REFRESH_MARGIN } from './limits.js';

/** Why no token could be signed: the key is missing or not an App Store Connect key. */
export interface KeyProblem {
  reason: string;
  hint: string;
}

type SigningKey = Awaited<ReturnType<typeof importPKCS8>>;

/**
 * The .p8 key's text: `APP_STORE_PRIVATE_KEY` holds either the PEM itself (with real line breaks, or
 * with `\n` as an environment variable often carries them) or the path to the downloaded file.
 */
export async function readPrivateKey(
  setting: string,
): Promise<{ ok: true; pem: string } | { ok: false; reason: string }> {
  const text = setting.trim();
  if (text.includes('-----BEGIN')) return { ok: true, pem: text.replace(/\\n/g, '\n') };
  try {
    const pem = (await readFile(text, 'utf8')).trim();
    if (pem.includes('-----BEGIN')) return { ok: true, pem };
    return {
      ok: false,
      reason: 'the private key file does not hold a PEM key (-----BEGIN PRIVATE KEY-----)',
    };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // Neither PEM text nor a readable file; the setting itself is not repeated (it may be a key).
    return {
      ok: false,
      reason:
        code === 'ENOENT'
          ? 'the private key is neither PEM text nor the path of an existing file'
          : `the private key file cannot be read (${code ?? 'error'})`,
    };
  }
}

/**
 * The App Store Connect bearer token of one API key: an ES256 JWT (header `kid`, payload `iss`,
 * `iat`, `exp`, `aud: appstoreconnect-v1`), signed once and reused until shortly before it expires.
 */
export class AppStoreToken {
  private key: Promise<{ ok: true; key: SigningKey } | { ok: false; problem: KeyProblem }> | undefined;
  private token: { value: string; refreshAt: number } | undefined;

  constructor(private readonly account: AppStoreAccount) {}

  async get(clock: Clock): Promise<{ ok: true; value: string } | { ok: false; problem: KeyProblem }> {
    const now = clock.now().getTime();
    if (this.token && now < this.token.refreshAt) return { ok: true, value: this.token.value };
    this.key ??= this.loadKey();
    const key = await this.key;
    if (!key.ok) {
      // A fixed file is read again at the next attempt.
      this.key = undefined;
      return key;
    }
    const iat = Math.floor(now / 1000);
    const value = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: this.account.keyId, typ: 'JWT' })
      .setIssuer(this.account.issuerId)
      .setIssuedAt(iat)
      .setExpirationTime(iat + Math.floor(TOKEN_LIFETIME / 1000))
      .setAudience('appstoreconnect-v1')
      .sign(key.key);
    this.token = { value, refreshAt: now + TOKEN_LIFETIME - TOKEN_REFRESH_MARGIN };
    return { ok: true, value };
  }

  /** Forgets the token, so the next request signs a new one (after a 401). */
  forget(value: string): void {
    if (this.token?.value === value) this.token = undefined;
  }

  private async loadKey(): Promise<{ ok: true; key: SigningKey } | { ok: false; problem: KeyProblem }> {
    const read = await readPrivateKey(this.account.privateKey);
    const hint = keyHint(this.account);
    if (!read.ok) return { ok: false, problem: { reason: read.reason, hint } };
    try {
      return { ok: true, key: await importPKCS8(read.pem, 'ES256') };
    } catch {
      return {
        ok: false,
        problem: { reason: 'the private key is not an App Store Connect API key (an ES256 .p8 key)', hint },
      };
    }
  }
}
