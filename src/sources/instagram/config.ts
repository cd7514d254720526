import { z } from 'zod';
import { slackChannelId } from '../../config/fields.js';
import { defineSourceConfig } from '../types.js';

/** `sources.instagram`: only where Instagram cases go; the accounts come with the Facebook Pages. */
export const instagramConfig = defineSourceConfig({
  file: z
    .strictObject({
      channel: slackChannelId
        .optional()
        .meta({ description: 'channel for Instagram cases', default: "the Page's channel" }),
    })
    .prefault({})
    .describe(
      "Where Instagram cases go. The accounts are the ones linked to the Facebook Pages (`instagram_account_id`, `INSTAGRAM_ACCOUNT_ID`), read through the Page's webhook (see [Instagram](sources/instagram.md#instagram)).",
    ),
  resolve: (f) => ({ channel: f.channel }),
});

export type InstagramSettings = ReturnType<typeof instagramConfig.resolve>;
