import { z } from 'zod';
import { type InboundMessage, starFact } from '../../care/inbound.js';
import { ratingPriority } from '../../config/fields.js';
import type { GooglePlayAccount } from './config.js';

/*
 * Google Play reviews → carebot's inbound message. A review (`reviewId`) is one conversation: the
 * customer's comment, and at most one developer reply. When the author edits the review, its
 * `userComment.lastModified` moves on, and carebot takes the new version as a follow-up in the
 * same case (external id `reviewId:seconds`). The API gives no id of the author: the review stands
 * in for them (`review:<reviewId>`).
 */

/** Google's JSON Timestamp: `seconds` is an int64, written as a string. */
const timestamp = z.looseObject({
  seconds: z.union([z.string().regex(/^\d+$/), z.number().int()]).transform(Number),
  nanos: z.number().int().optional(),
});

export const userComment = z.looseObject({
  text: z.string().default(''),
  lastModified: timestamp,
  starRating: z.number().int().min(1).max(5),
  reviewerLanguage: z.string().optional(),
  device: z.string().optional(),
  androidOsVersion: z.number().int().optional(),
  appVersionCode: z.number().int().optional(),
  appVersionName: z.string().optional(),
  thumbsUpCount: z.number().int().optional(),
  thumbsDownCount: z.number().int().optional(),
  deviceMetadata: z
    .looseObject({
      productName: z.string().optional(),
      manufacturer: z.string().optional(),
    })
    .optional(),
});

export const developerComment = z.looseObject({
  text: z.string().default(''),
  lastModified: timestamp.optional(),
});

export const playReview = z.looseObject({
  reviewId: z.string().min(1),
  authorName: z.string().optional(),
  comments: z
    .array(
      z.looseObject({
        userComment: userComment.optional(),
        developerComment: developerComment.optional(),
      }),
    )
    .default([]),
});

export const reviewsList = z.looseObject({
  reviews: z.array(z.unknown()).default([]),
  tokenPagination: z.looseObject({ nextPageToken: z.string().optional() }).optional(),
});

export type PlayReview = z.output<typeof playReview>;
export type UserComment = z.output<typeof userComment>;

/** The customer's comment of a review (the one the review is about), if it has one. */
export function userCommentOf(review: PlayReview): UserComment | undefined {
  return review.comments.find((c) => c.userComment)?.userComment;
}

/** The brand's reply on a review, if there is one. */
export function developerReplyOf(review: PlayReview): { text: string } | undefined {
  return review.comments.find((c) => c.developerComment)?.developerComment;
}

export const sourceKeyOf = (account: Pick<GooglePlayAccount, 'packageName'>) =>
  `google_play:${account.packageName}`;

export const reviewUrl = (packageName: string, reviewId: string) =>
  `https://play.google.com/store/apps/details?id=${encodeURIComponent(packageName)}&reviewId=${encodeURIComponent(reviewId)}`;

/** The external id of one version of a review: an edit by its author is a new message. */
export const externalIdOf = (reviewId: string, comment: UserComment) =>
  `${reviewId}:${comment.lastModified.seconds}`;

/**
 * Play joins a review's title and body with a tab; a title becomes its own line. Other tabs (and
 * Windows line ends) are plain spacing.
 */
export function readableText(text: string): string {
  const tab = text.indexOf('\t');
  const joined =
    tab === -1 ? text : [text.slice(0, tab).trim(), text.slice(tab + 1).trim()].filter(Boolean).join('\n\n');
  return joined.replace(/\r\n?/g, '\n').replace(/\t/g, ' ').trim();
}

/** Android's marketing version of an SDK level (`androidOsVersion` is the API level). */
const ANDROID_VERSIONS: Record<number, string> = {
  19: '4.4',
  21: '5.0',
  22: '5.1',
  23: '6',
  24: '7.0',
  25: '7.1',
  26: '8.0',
  27: '8.1',
  28: '9',
  29: '10',
  30: '11',
  31: '12',
  32: '12L',
  33: '13',
  34: '14',
  35: '15',
  36: '16',
};

export function androidVersion(sdk: number): string {
  const name = ANDROID_VERSIONS[sdk];
  return name ? `Android ${name}` : `Android API ${sdk}`;
}

/** What the card shows about a review: stars, app version, device, language, and what an edit changed. */
export function reviewFacts(comment: UserComment, previousStars: number | undefined): string[] {
  const facts = [starFact(comment.starRating)];
  if (comment.appVersionName) facts.push(`app ${comment.appVersionName}`);
  const device = comment.deviceMetadata?.productName || comment.device;
  const os = comment.androidOsVersion ? androidVersion(comment.androidOsVersion) : undefined;
  const onDevice = [device, os].filter(Boolean).join(' · ');
  if (onDevice) facts.push(onDevice);
  if (comment.reviewerLanguage) facts.push(`language: ${comment.reviewerLanguage}`);
  if (previousStars !== undefined) {
    facts.push(
      previousStars === comment.starRating ? 'edited review' : `edited review: was ${previousStars}★`,
    );
  }
  return facts;
}

/**
 * One version of a review as an inbound message. `previousStars`: the rating of the version
 * carebot saw before, when this one is an edit.
 */
export function normalizeReview(
  account: GooglePlayAccount,
  review: PlayReview,
  comment: UserComment,
  previousStars?: number,
): InboundMessage {
  const priority = ratingPriority(account.priorityByRating, comment.starRating);
  const text = readableText(comment.text);
  return {
    sourceKey: sourceKeyOf(account),
    platform: 'google_play',
    externalId: externalIdOf(review.reviewId, comment),
    conversationId: review.reviewId,
    author: {
      id: `review:${review.reviewId}`,
      name: review.authorName?.trim() || 'A Google Play user',
    },
    // A rating without words is still a review to answer.
    text: text || `(a ${comment.starRating}-star rating without text)`,
    url: reviewUrl(account.packageName, review.reviewId),
    sentAt: new Date(comment.lastModified.seconds * 1000),
    channelId: account.channel,
    facts: reviewFacts(comment, previousStars),
    ...(priority ? { priority } : {}),
  };
}
