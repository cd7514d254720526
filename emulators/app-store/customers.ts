import type { Logger } from '../../src/logger.js';
import type { AppStoreAccount } from '../../src/sources/app_store/config.js';
import { type CustomerItem, type CustomerSide, CustomersOnApi, type NewPost } from '../customer-side.js';
import type { ApiCall } from '../http.js';
import {
  type FakeAppStore,
  type FakeReview,
  fakeAppStoreAccount,
  fakeAppStoreKey,
  startFakeAppStore,
} from './api.js';

/**
 * The sandbox's App Store: customers write reviews with a star rating on the App Store Connect
 * emulator (api.ts), which carebot's real App Store source polls (APP_STORE_API_URL) with a key
 * generated at start; carebot's answers arrive as the review's developer response and appear under
 * it (a later answer replaces the earlier one, as on the App Store).
 */

export type AppStoreBrandApp = Omit<AppStoreAccount, 'channel'>;

const TITLE_LENGTH = 40;

export class SandboxAppStore extends CustomersOnApi<FakeAppStore> implements CustomerSide {
  readonly platform = 'app_store' as const;

  private constructor(
    readonly app: AppStoreBrandApp,
    logger: Logger,
  ) {
    // Reviews are polled: there is no webhook to call.
    super(() => '', logger);
  }

  static async start(logger: Logger): Promise<SandboxAppStore> {
    const key = fakeAppStoreKey({ keyId: 'SANDBOXKEY' });
    const { channel: _channel, ...app } = fakeAppStoreAccount(key, { name: 'acme_app', appId: '1500000001' });
    const side = new SandboxAppStore(app, logger.child({ sandbox: 'app_store' }));
    side.api = await startFakeAppStore({
      keys: [key],
      appIds: [app.appId],
      onChange: () => side.emit('change'),
    });
    return side;
  }

  get calls(): ApiCall[] {
    return this.api.calls.map(({ method, path, status }) => ({ method, path, status }));
  }

  /**
   * A customer writes a review (default one star); its first line, if short, is the title. The App
   * Store has no follow-ups: a review is answered once, so another post is another review.
   */
  async post(input: NewPost): Promise<CustomerItem> {
    const rating = Math.min(5, Math.max(1, Math.round(input.stars ?? 1)));
    const [first = '', ...rest] = input.text.trim().split('\n');
    const titled = rest.length > 0 && first.length <= TITLE_LENGTH;
    const review = this.api.addReview({
      rating,
      title: titled ? first : '',
      body: titled ? rest.join('\n').trim() : input.text.trim(),
      nickname: input.name || 'A customer',
      territory: 'USA',
    });
    this.statuses.set(review.id, 'on the App Store; carebot reads it at its next poll');
    this.emit('change');
    return this.itemOf(review);
  }

  items(): CustomerItem[] {
    const reviews = this.api.reviews.map((r) => this.itemOf(r));
    const responses = [...this.api.responses.values()].map(
      (r): CustomerItem => ({
        platform: 'app_store',
        id: r.id,
        conversationId: r.reviewId,
        parentId: r.reviewId,
        kind: 'brand',
        author: { name: 'Acme (developer response)' },
        text: `${r.responseBody}${r.state === 'PENDING_PUBLISH' ? ' (pending Apple review)' : ''}`,
        at: r.lastModifiedDate,
      }),
    );
    return [...reviews, ...responses].sort((a, b) => a.at.localeCompare(b.at));
  }

  private itemOf(review: FakeReview): CustomerItem {
    return {
      platform: 'app_store',
      id: review.id,
      conversationId: review.id,
      kind: 'customer',
      author: { name: review.reviewerNickname },
      text: `${review.title ? `${review.title}: ` : ''}${review.body}`,
      stars: review.rating,
      at: review.createdDate,
      url: `https://apps.apple.com/app/id${review.appId}`,
      status: this.statuses.get(review.id),
    };
  }
}
