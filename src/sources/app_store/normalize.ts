import { z } from 'zod';
import { type InboundMessage, starFact } from '../../care/inbound.js';
import { ratingPriority } from '../../config/fields.js';
import type { AppStoreAccount } from './config.js';

/*
 * App Store Connect's customer reviews → carebot's inbound message. A review is a JSON:API
 * resource `{type: "customerReviews", id, attributes: {rating, title, body, reviewerNickname,
 * createdDate, territory}, relationships: {response}}`; its id is unique and is both the message's
 * external id and its conversation (a review is answered once, and the customer cannot reply).
 * The API gives no app version, device or reviewer id, and no link to the single review.
 */

export const customerReview = z.looseObject({
  type: z.literal('customerReviews'),
  id: z.string().min(1),
  attributes: z.looseObject({
    rating: z.number().int().min(1).max(5),
    title: z.string().nullish(),
    body: z.string().nullish(),
    reviewerNickname: z.string().nullish(),
    createdDate: z.string().refine((d) => !Number.isNaN(Date.parse(d)), 'expected a date-time'),
    territory: z.string().nullish(),
  }),
  relationships: z
    .looseObject({
      response: z
        .looseObject({ data: z.looseObject({ type: z.string(), id: z.string() }).nullish() })
        .optional(),
    })
    .optional(),
});

export const reviewResponse = z.looseObject({
  type: z.literal('customerReviewResponses'),
  id: z.string().min(1),
  attributes: z
    .looseObject({
      responseBody: z.string().nullish(),
      lastModifiedDate: z.string().nullish(),
      state: z.string().nullish(),
    })
    .optional(),
});

export const reviewList = z.looseObject({
  data: z.array(z.unknown()),
  included: z.array(z.unknown()).optional(),
  links: z.looseObject({ next: z.string().nullish() }).optional(),
});

export type CustomerReview = z.output<typeof customerReview>;
export type ReviewResponse = z.output<typeof reviewResponse>;

/** A page's reviews, and the ids of those that already have a response; unreadable ones counted. */
export function reviewsOf(page: z.output<typeof reviewList>): {
  reviews: CustomerReview[];
  answered: Set<string>;
  unreadable: number;
} {
  const reviews: CustomerReview[] = [];
  let unreadable = 0;
  for (const item of page.data) {
    const parsed = customerReview.safeParse(item);
    if (parsed.success) reviews.push(parsed.data);
    else unreadable += 1;
  }
  // `include=response` lists the responses beside the reviews; the review's relationship names it.
  const responses = new Set(
    (page.included ?? []).flatMap((r) => {
      const parsed = reviewResponse.safeParse(r);
      return parsed.success ? [parsed.data.id] : [];
    }),
  );
  const answered = new Set(
    reviews
      .filter((r) => {
        const id = r.relationships?.response?.data?.id;
        return id !== undefined && (responses.size === 0 || responses.has(id));
      })
      .map((r) => r.id),
  );
  return { reviews, answered, unreadable };
}

export const sourceKeyOf = (account: Pick<AppStoreAccount, 'appId'>) => `app_store:${account.appId}`;
/** The app's page on the App Store; Apple has no link to a single review. */
export const appUrl = (appId: string) => `https://apps.apple.com/app/id${appId}`;

export interface NormalizeOptions {
  priorityByRating: Parameters<typeof ratingPriority>[0];
  /** The review already has a response, written outside carebot. */
  answered: boolean;
}

export function normalizeReview(
  account: AppStoreAccount,
  review: CustomerReview,
  options: NormalizeOptions,
): InboundMessage {
  const { rating, title, body, reviewerNickname, createdDate, territory } = review.attributes;
  const nickname = reviewerNickname?.trim() || 'an App Store customer';
  const text =
    [title?.trim(), body?.trim()].filter(Boolean).join('\n\n') || `(${rating}-star rating without text)`;
  const facts = [
    starFact(rating),
    ...(territory ? [`territory: ${territory}`] : []),
    ...(options.answered ? ['already answered in App Store Connect'] : []),
  ];
  const priority = ratingPriority(options.priorityByRating, rating);
  return {
    sourceKey: sourceKeyOf(account),
    platform: 'app_store',
    externalId: review.id,
    conversationId: review.id,
    // The nickname is all Apple tells of the reviewer.
    author: { id: `nickname:${nickname}`, name: nickname },
    text,
    url: appUrl(account.appId),
    sentAt: new Date(createdDate),
    channelId: account.channel,
    facts,
    ...(priority ? { priority } : {}),
  };
}
