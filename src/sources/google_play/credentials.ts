import { readFile } from 'node:fs/promises';
import { importPKCS8, SignJWT } from 'jose';
import { z } from 'zod';
import { ASSERTION_LIFETIME_SECONDS, PLAY_SCOPE } from './limits.js';

/**
 * A Google service account's JSON key file, as the Cloud console downloads it. Only the fields the
 * JWT bearer grant needs are read; the others (project_id, client_id, auth_uri, …) may be there.
 */
export const serviceAccountKey = z.looseObject({
  type: z.literal('service_account', { error: 'expected "type": "service_account"' }),
  client_email: z.string().min(3, 'expected the service account e-mail'),
  private_key: z.string().includes('PRIVATE KEY', { error: 'expected a PEM private key' }),
  private_key_id: z.string().min(1, 'expected the key id'),
  token_uri: z
    .url({ error: 'expected the token endpoint URL' })
    .default('https://oauth2.googleapis.com/token'),
});

export type ServiceAccountKey = z.output<typeof serviceAccountKey>;

export type KeyFileResult = { ok: true; key: ServiceAccountKey } | { ok: false; reason: string };

/** Reads and checks the key file; the reason names the file and the field, never a value. */
export async function readKeyFile(path: string): Promise<KeyFileResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return {
      ok: false,
      reason: `carebot cannot read the service account key file ${path} (${code === 'ENOENT' ? 'no such file' : (code ?? 'unreadable')})`,
    };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, reason: `the service account key file ${path} is not JSON` };
  }
  const parsed = serviceAccountKey.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      ok: false,
      reason: `the service account key file ${path} is not a service account key (${issue?.path.join('.') || 'file'}: ${issue?.message ?? 'unexpected shape'})`,
    };
  }
  return { ok: true, key: parsed.data };
}

/**
 * The signed grant of RFC 7523 as Google takes it: an RS256 JWT from the service account to its
 * token endpoint, naming the Android Publisher scope, valid for an hour, with the key's id as `kid`.
 */
export async function signAssertion(key: ServiceAccountKey, now: Date): Promise<string> {
  const privateKey = await importPKCS8(key.private_key, 'RS256');
  const iat = Math.floor(now.getTime() / 1000);
  return new SignJWT({ scope: PLAY_SCOPE })
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: key.private_key_id })
    .setIssuer(key.client_email)
    .setAudience(key.token_uri)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ASSERTION_LIFETIME_SECONDS)
    .sign(privateKey);
}
