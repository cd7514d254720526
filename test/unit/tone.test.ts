import { describe, expect, it } from 'vitest';
import { checkTone, platformLength, replyTarget, toneRules } from '../../src/care/tone.js';
import { slackToPlain } from '../../src/slack/plain-text.js';

const rules = toneRules({ extra_selling: [], extra_jargon: [], extra_arguing: [], max_length: {} });
const rulesOf = (text: string, platform = 'webhook') => checkTone(text, platform, rules).map((f) => f.rule);

describe('tone check', () => {
  it('passes a plain, friendly answer', () => {
    expect(
      rulesOf("Hi Jane, I'm sorry your order is late. I've asked the courier and will update you by 3pm."),
    ).toEqual([]);
  });

  it('flags selling, jargon, arguing and an empty reply', () => {
    expect(rulesOf('Sorry! Here is a COUPON for next time')).toEqual(['selling']);
    expect(rulesOf('Going forward we will leverage our synergy')).toEqual(['jargon']);
    expect(rulesOf('That’s not true, you should have read the manual')).toEqual(['arguing']);
    expect(rulesOf('   ')).toEqual(['empty']);
  });

  it('matches whole words only', () => {
    expect(rulesOf('I will deal with this myself')).toEqual([]);
    expect(rulesOf('The coupons page is broken, we are fixing it')).toEqual([]);
  });

  it('counts X length as X does: URLs are 23, CJK characters count double', () => {
    expect(platformLength(`See https://example.com/${'a'.repeat(200)}`, 'x')).toBe(4 + 23);
    expect(platformLength('日本語', 'x')).toBe(6);
    expect(rulesOf('a'.repeat(280), 'x')).toEqual([]);
    expect(rulesOf('a'.repeat(281), 'x')).toEqual(['length']);
    expect(rulesOf('日'.repeat(141), 'x')).toEqual(['length']);
    expect(rulesOf('a'.repeat(281), 'webhook')).toEqual([]);
  });

  it('holds direct messages to the limits of where they go', () => {
    const target = (platform: string, conversationId: string, replyMode = 'public') =>
      replyTarget({ platform, conversationId, replyMode });
    expect(target('x', '1790000000000000001')).toBe('x');
    expect(target('x', 'dm:123')).toBe('x_dm');
    expect(target('x', '1790000000000000001', 'private')).toBe('x_dm');
    expect(target('facebook', '123_456')).toBe('facebook');
    expect(target('facebook', 'messenger:998877')).toBe('messenger');
    expect(target('facebook', '123_456', 'private')).toBe('messenger');
    expect(target('instagram', '178000', 'private')).toBe('instagram_dm');
    expect(target('reddit', 't3_abc')).toBe('reddit');
    // A Messenger message may hold 2,000 characters, a Facebook comment 8,000.
    expect(rulesOf('a'.repeat(2001), 'messenger')).toEqual(['length']);
    expect(rulesOf('a'.repeat(2001), 'facebook')).toEqual([]);
    expect(checkTone('a'.repeat(2001), 'messenger', rules)[0]?.message).toBe(
      'Too long for Messenger: 2001 of 2000 characters.',
    );
    // An X DM is not weighted and may be long; an Instagram DM may not.
    expect(rulesOf('日'.repeat(200), 'x_dm')).toEqual([]);
    expect(rulesOf('a'.repeat(1001), 'instagram_dm')).toEqual(['length']);
  });

  it('takes lists and limits from the config', () => {
    const custom = toneRules({
      selling: ['upgrade'],
      extra_selling: [],
      extra_jargon: ['per my last email'],
      extra_arguing: [],
      max_length: { webhook: 10 },
    });
    expect(checkTone('Please upgrade', 'webhook', custom).map((f) => f.rule)).toEqual(['selling', 'length']);
    expect(checkTone('Use a coupon', 'x', custom)).toEqual([]);
    expect(checkTone('Per my last email', 'x', custom).map((f) => f.rule)).toEqual(['jargon']);
  });
});

describe('Slack text to plain text', () => {
  it('undoes escaping and turns links into URLs, dropping internal mentions', () => {
    expect(slackToPlain('Fish &amp; chips &lt;3 &gt; all')).toBe('Fish & chips <3 > all');
    expect(slackToPlain('See <https://help.example/a|our help page> or <https://help.example/b>')).toBe(
      'See our help page (https://help.example/a) or https://help.example/b',
    );
    expect(slackToPlain('Thanks <@U0AGENT002> for checking <!here>')).toBe('Thanks for checking');
    expect(slackToPlain('Mail <mailto:help@shop.example|help@shop.example>')).toBe('Mail help@shop.example');
  });
});
