import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  DOC_PATH,
  describeKey,
  describeSchema,
  lineDiff,
  undocumented,
  updatedDocument,
} from '../../scripts/config-docs.js';
import { envSchema, fileSchema } from '../../src/config.js';

const paths = (keys: ReturnType<typeof describeSchema>): string[] =>
  keys.flatMap((k) => [k.path, ...paths(k.children)]);

describe('config docs (scripts/config-docs.ts)', () => {
  it('finds every environment variable', () => {
    const variables = paths(describeSchema(envSchema, 'env'));
    expect(variables).toEqual(Object.keys(envSchema.shape));
    expect(variables).toEqual(expect.arrayContaining(['SLACK_BOT_TOKEN', 'X_USER_ID', 'REDDIT_API_URL']));
  });

  it('finds every config-file key, inside sections, unions, arrays of objects and catch-alls', () => {
    const keys = paths(describeSchema(fileSchema));
    for (const section of Object.keys(fileSchema.shape)) expect(keys).toContain(section);
    expect(keys).toEqual(
      expect.arrayContaining([
        'business_hours.start',
        'sla.priorities',
        'teams[].ack_within',
        'crisis.cluster.lift',
        'crisis.sla.resolution',
        'sources.webhook.allow_private_network',
        'sources.x.accounts[].user_id',
        'sources.rss.feeds[].allow_private_network',
        'sources.facebook.pages[].instagram_account_id',
        'sources.instagram.channel',
        'sources.reddit.accounts[].subreddits',
        'sources.<other>.poll_every',
      ]),
    );
  });

  it('has a description for every key and variable', () => {
    expect(undocumented(describeSchema(envSchema, 'env'))).toEqual([]);
    expect(undocumented(describeSchema(fileSchema))).toEqual([]);
  });

  it('names a key without a description, however deep, and finds descriptions on any wrapper', () => {
    const schema = z.strictObject({
      said: z.string().optional().describe('described'),
      wrapped: z.string().describe('inside').nullable().prefault('x'),
      piped: z
        .string()
        .transform((s) => s.length)
        .describe('on the pipe'),
      silent: z.string(),
      section: z.strictObject({ inner: z.number().default(1) }).describe('a section'),
      list: z
        .array(z.strictObject({ name: z.string().describe('its name'), quiet: z.boolean() }))
        .describe('a list'),
      either: z.union([z.literal('always'), z.strictObject({ hidden: z.string() })]).describe('a choice'),
    });
    expect(undocumented(describeSchema(schema))).toEqual([
      'silent',
      'section.inner',
      'list[].quiet',
      'either.hidden',
    ]);
  });

  it('shows defaults as they are written: literal, from meta, unset or required', () => {
    const key = (schema: z.ZodType, written: 'yaml' | 'env' = 'yaml') =>
      describeKey('k', schema, written).default;
    expect(key(z.string().default('09:00'))).toBe('`"09:00"`');
    expect(key(z.array(z.string()).default(['mon', 'tue']))).toBe('`[mon, tue]`');
    expect(key(z.string().nullable().default(null))).toBe('`null`');
    expect(key(z.url().default('https://api.x.com'), 'env')).toBe('`https://api.x.com`');
    expect(key(z.string().optional().meta({ description: 'd', default: 'CARE_CHANNEL_ID' }))).toBe(
      '`CARE_CHANNEL_ID`',
    );
    expect(key(z.string().optional().meta({ description: 'd', default: "the Page's channel" }))).toBe(
      "the Page's channel",
    );
    expect(key(z.string().optional())).toBe('unset');
    expect(key(z.string())).toBe('required');
  });

  it(`keeps ${DOC_PATH} up to date (npm run docs:config)`, () => {
    const current = readFileSync(DOC_PATH, 'utf8');
    const updated = updatedDocument(current);
    expect(lineDiff(current, updated)).toEqual([]);
  });

  it('says which lines differ', () => {
    expect(lineDiff('a\nb\nc', 'a\nB\nc')).toEqual(['- 2: b', '+ 2: B']);
  });
});
