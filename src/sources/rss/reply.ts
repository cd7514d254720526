import type { ReplyAdapter, ReplyOutcome } from '../types.js';

const PREFIX = 'rss:';

/**
 * Forums and blogs have no API carebot could answer through. An agent answers on the site and
 * marks the case with "I replied on the site"; a reply written in carebot stops here, with the
 * reason shown to the agent.
 */
export function rssReplyAdapter(): ReplyAdapter {
  return {
    label: (sourceKey) => (sourceKey.startsWith(PREFIX) ? sourceKey.slice(PREFIX.length) : sourceKey),
    async reply(): Promise<ReplyOutcome> {
      return {
        ok: false,
        permanent: true,
        reason:
          'forums and blogs can’t be answered through an API: open the post, answer there and press "I replied on the site"',
      };
    },
  };
}
