import { z } from 'zod';
import type { Clock } from '../../care/clock.js';
import type { Logger } from '../../logger.js';
import { GraphUnreachable, graphRequest, isSuccess } from './client.js';
import type { FacebookPage } from './config.js';
import { describeGraphError, graphError } from './errors.js';
import {
  MENTION_LOOKUP_TIMEOUT,
  PROFILE_CACHE_MS,
  PROFILE_CACHE_SIZE,
  PROFILE_REFUSED_CACHE_MS,
} from './limits.js';

/** A Messenger customer's name, as the User Profile API gives it to the Page. */
export interface MessengerProfile {
  name: string;
}

const profile = z.looseObject({
  first_name: z.string().optional(),
  last_name: z.string().optional(),
});

export type ProfileLookup = (page: FacebookPage, psid: string) => Promise<MessengerProfile | undefined>;

/**
 * Names Messenger customers: a delivery names the sender by their page-scoped id only, so a card
 * would read "from 3424692677644577". One Graph call (`GET /<PSID>?fields=first_name,last_name`
 * with the Page token) per person, remembered for a day; a refusal (the person's privacy settings,
 * a token without the permission) is remembered for an hour, and the card shows the number.
 */
export function messengerProfiles(
  graph: { apiUrl: string; apiVersion: string },
  clock: Clock,
  logger: Logger,
): ProfileLookup {
  const cache = new Map<string, { until: number; profile: MessengerProfile | undefined }>();
  const remember = (key: string, value: MessengerProfile | undefined, forMs: number) => {
    cache.delete(key);
    cache.set(key, { until: clock.now().getTime() + forMs, profile: value });
    // A Map keeps insertion order: the first key is the one used longest ago.
    while (cache.size > PROFILE_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
    return value;
  };
  return async (page, psid) => {
    const key = `${page.pageId}:${psid}`;
    const known = cache.get(key);
    if (known && known.until > clock.now().getTime()) return known.profile;
    try {
      const res = await graphRequest(
        page,
        graph.apiUrl,
        graph.apiVersion,
        'GET',
        `/${encodeURIComponent(psid)}`,
        {
          query: { fields: 'first_name,last_name' },
          timeoutMs: MENTION_LOOKUP_TIMEOUT,
        },
      );
      if (!isSuccess(res)) {
        // Graph's own failure may pass: not remembered, the next message asks again.
        if (res.status >= 500) return undefined;
        logger.info(
          { page: page.name, problem: describeGraphError(page, graphError(res.body), res.status) },
          "could not read a Messenger customer's name; the card shows their id",
        );
        return remember(key, undefined, PROFILE_REFUSED_CACHE_MS);
      }
      const p = profile.safeParse(res.body).data;
      const name = [p?.first_name, p?.last_name]
        .filter((s) => s?.trim())
        .join(' ')
        .trim();
      return remember(key, name ? { name } : undefined, name ? PROFILE_CACHE_MS : PROFILE_REFUSED_CACHE_MS);
    } catch (err) {
      if (!(err instanceof GraphUnreachable)) throw err;
      // Not remembered: Graph may answer the next time.
      logger.info(
        { page: page.name, problem: err.message },
        "Messenger customer's name not read; Graph unreachable",
      );
      return undefined;
    }
  };
}
