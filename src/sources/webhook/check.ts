import { OutboundError, outboundRequest } from '../../http/outbound.js';
import type { CheckDeps, CheckLine } from '../types.js';
import type { WebhookSourceConfig } from './config.js';

/**
 * The generic webhook's `reply_url` answers. A plain GET, expecting any HTTP answer (a 405 from a
 * receiver that only takes POST is fine): a signed POST would be a reply. The line names the host,
 * not the URL (its path or query may hold a token).
 */
export async function checkWebhook(settings: WebhookSourceConfig, deps: CheckDeps): Promise<CheckLine[]> {
  if (!settings.secret) return [];
  if (!settings.replyUrl)
    return [
      {
        ok: false,
        what: 'Generic webhook: no reply_url, so agents cannot answer its cases',
        fix: 'set CARE_WEBHOOK_REPLY_URL (or sources.webhook.reply_url) to where the forum or tool takes replies',
      },
    ];
  const host = new URL(settings.replyUrl).host;
  try {
    const res = await outboundRequest(settings.replyUrl, {
      method: 'GET',
      headers: { 'user-agent': 'carebot (setup check)' },
      timeoutMs: deps.timeoutMs,
      maxBytes: 1024,
      overflow: 'truncate',
      allowPrivateNetwork: settings.allowPrivateNetwork,
      maxRedirects: 0,
    });
    return [{ ok: true, what: `Generic webhook: reply_url on ${host} answers (HTTP ${res.status})` }];
  } catch (err) {
    if (!(err instanceof OutboundError)) throw err;
    const fix =
      err.problem === 'private_address'
        ? 'the reply_url is on a private address: set CARE_WEBHOOK_ALLOW_PRIVATE_NETWORK=true (or sources.webhook.allow_private_network) if that is intended'
        : 'check CARE_WEBHOOK_REPLY_URL (or sources.webhook.reply_url), and that the receiver runs and is reachable from here';
    return [{ ok: false, what: `Generic webhook: reply_url on ${host}: ${err.message}`, fix }];
  }
}
