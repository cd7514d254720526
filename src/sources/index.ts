import { registerPlatforms } from '../care/platforms.js';
import { appStoreSource } from './app_store/index.js';
import { blueskySource } from './bluesky/index.js';
import { facebookSource } from './facebook/index.js';
import { googlePlaySource } from './google_play/index.js';
import { instagramSource } from './instagram/index.js';
import { mastodonSource } from './mastodon/index.js';
import { redditSource } from './reddit/index.js';
import { rssSource } from './rss/index.js';
import { webhookSource } from './webhook/index.js';
import { xSource } from './x/index.js';

/**
 * Every platform carebot reads, in the order their config sections are documented. Adding a
 * platform is a folder with an index.ts exporting its module (see ./types.ts) and a line here.
 */
export const sources = [
  webhookSource,
  xSource,
  rssSource,
  facebookSource,
  instagramSource,
  redditSource,
  blueskySource,
  mastodonSource,
  googlePlaySource,
  appStoreSource,
] as const;

registerPlatforms(sources);
