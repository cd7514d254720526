import type { AppStoreAccount } from './config.js';

/** One entry of App Store Connect's JSON:API error answer `{errors: [{status, code, title, detail}]}`. */
export interface AppStoreError {
  status?: string | undefined;
  code?: string | undefined;
  title?: string | undefined;
  detail?: string | undefined;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The errors of an answer's body, if it has any. */
export function appStoreErrors(body: unknown): AppStoreError[] {
  if (!isRecord(body) || !Array.isArray(body.errors)) return [];
  return body.errors.filter(isRecord).map((e) => ({
    status: typeof e.status === 'string' ? e.status : undefined,
    code: typeof e.code === 'string' ? e.code : undefined,
    title: typeof e.title === 'string' ? e.title : undefined,
    detail: typeof e.detail === 'string' ? e.detail : undefined,
  }));
}

/** What Apple said, in its own words (the detail, else the title), cut short; `HTTP n` if nothing. */
export function errorWords(body: unknown, status: number): string {
  const [first] = appStoreErrors(body);
  const words = (first?.detail ?? first?.title ?? '').replace(/\s+/g, ' ').trim();
  const code = first?.code ? ` (${first.code})` : '';
  return words ? `${words.slice(0, 300)}${code}` : `HTTP ${status}${code}`;
}

const where = (account: AppStoreAccount, env: string, key: string) =>
  account.name === 'default'
    ? env
    : `\`${key}\` of the app "${account.name}" under sources.app_store.accounts in carebot.config.yaml`;

/** What to do when the key file cannot be used. */
export function keyHint(account: AppStoreAccount): string {
  return `Download the key's .p8 file once (App Store Connect → Users and Access → Integrations → App Store Connect API) and set ${where(account, 'APP_STORE_PRIVATE_KEY', 'private_key')} to its text or its path`;
}

/** What to do when Apple refuses the signed token (401). */
export function credentialsHint(account: AppStoreAccount): string {
  return `Check ${where(account, 'APP_STORE_ISSUER_ID, APP_STORE_KEY_ID and APP_STORE_PRIVATE_KEY', 'issuer_id, key_id and private_key')} against App Store Connect → Users and Access → Integrations → App Store Connect API: the key may have been revoked, in which case generate a new one`;
}

/** What to do when the key may not read or answer this app's reviews (403, or 404 for the app). */
export function accessHint(account: AppStoreAccount): string {
  return `Give the API key a role that manages customer reviews (Admin, App Manager or Customer Support) and check that ${where(account, 'APP_STORE_APP_ID', 'app_id')} is the app's Apple ID (${account.appId} now; App Information → Apple ID)`;
}
