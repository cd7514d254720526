import type { GooglePlayAccount } from './config.js';

const KEYS_PAGE = 'https://console.cloud.google.com/iam-admin/serviceaccounts';

/** Where the app's key file is configured: the environment for the default app, else the file. */
function keySetting(account: GooglePlayAccount): string {
  return account.name === 'default'
    ? 'GOOGLE_APPLICATION_CREDENTIALS'
    : `credentials_file of the app "${account.name}" under sources.google_play.accounts in carebot.config.yaml`;
}

/** What a person does when the key file is missing, unreadable or not a service account key. */
export function keyFileHint(account: GooglePlayAccount): string {
  return (
    `Check ${keySetting(account)}: it must be the path of a JSON key of the service account (${KEYS_PAGE} → the account → Keys → Add key → JSON). ` +
    'carebot reads the file again at its next try.'
  );
}

/** What a person does when Google refuses the signed grant (`invalid_grant`: a deleted key, a disabled account). */
export function grantHint(account: GooglePlayAccount, clientEmail: string): string {
  return (
    `The key of ${clientEmail} may have been deleted, or the service account disabled: at ${KEYS_PAGE} create a new JSON key for it and put the file where ${keySetting(account)} points. ` +
    "If the key is fine, check this machine's clock (Google refuses grants from a clock that is minutes off). " +
    'carebot picks the app up again once Google accepts the key.'
  );
}

/** What a person does when the API refuses the service account access to the app. */
export function accessHint(account: GooglePlayAccount, clientEmail: string | undefined): string {
  return (
    `In Play Console → Users and permissions, invite ${clientEmail ?? 'the service account'} and give it access to ${account.packageName} ` +
    'with "View app information" and "Reply to reviews"; also check that the Google Play Android Developer API is enabled in its Cloud project. ' +
    'carebot picks the app up again once Google lets it in.'
  );
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Google's error body, `{"error": {"code", "message", "status"}}`: its status and message, cut short. */
export function googleError(body: unknown): { status: string; message: string } {
  const error = isRecord(body) && isRecord(body.error) ? body.error : {};
  return {
    status: typeof error.status === 'string' ? error.status : '',
    message: typeof error.message === 'string' ? error.message.slice(0, 200) : '',
  };
}
