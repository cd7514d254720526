import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../src/logger.js';
import { type CustomerItem, type CustomerSide, CustomersOnApi, type NewPost } from '../customer-side.js';
import { type FakeGooglePlay, type ServiceAccountKeyPair, startFakeGooglePlay } from './api.js';

/**
 * The sandbox's Google Play: customers review the Acme app on the Play API emulator (api.ts) that
 * carebot's real Google Play source polls (GOOGLE_PLAY_API_URL), signing in as a service account
 * whose key file points its `token_uri` at the emulator. A review is a conversation; a follow-up is
 * the author editing their review (new text and rating); the brand's developer reply appears under
 * it, and a later reply replaces it, as on Play.
 */

export const SANDBOX_PACKAGE = 'com.acme.shop';

export class SandboxGooglePlay extends CustomersOnApi<FakeGooglePlay> implements CustomerSide {
  readonly platform = 'google_play' as const;
  private readonly history: CustomerItem[] = [];
  private key!: ServiceAccountKeyPair;

  private constructor(logger: Logger) {
    super(() => '', logger);
  }

  static async start(logger: Logger): Promise<SandboxGooglePlay> {
    const play = new SandboxGooglePlay(logger.child({ sandbox: 'google_play' }));
    play.api = await startFakeGooglePlay({ onReply: () => play.emit('change') });
    play.key = play.api.addServiceAccount({
      packages: [SANDBOX_PACKAGE],
      clientEmail: 'carebot@acme-sandbox.iam.gserviceaccount.com',
    });
    return play;
  }

  /** Writes the service account's key file (its `token_uri` at the emulator) into `dir`; its path. */
  writeKeyFile(dir: string): string {
    const path = join(dir, 'google-play-service-account.json');
    writeFileSync(path, JSON.stringify(this.key.keyFile, null, 2), { mode: 0o600 });
    return path;
  }

  /** A customer reviews the app; a follow-up is the same customer editing their review. */
  async post(input: NewPost): Promise<CustomerItem> {
    const stars = Math.min(5, Math.max(1, Math.round(input.stars ?? 1)));
    const existing = input.conversationId
      ? this.api.reviews.find((r) => r.reviewId === input.conversationId)
      : undefined;
    const review = existing
      ? this.api.editReview(existing.reviewId, { text: input.text, stars })
      : this.api.addReview({ packageName: SANDBOX_PACKAGE, authorName: input.name, text: input.text, stars });
    const item: CustomerItem = {
      platform: 'google_play',
      id: `${review.reviewId}:${review.lastModified}:${this.history.length}`,
      conversationId: review.reviewId,
      kind: 'customer',
      author: { name: review.authorName },
      text: input.text,
      stars,
      at: new Date().toISOString(),
      url: `https://play.google.com/store/apps/details?id=${SANDBOX_PACKAGE}&reviewId=${encodeURIComponent(review.reviewId)}`,
      status: existing ? 'review edited on Google Play' : 'posted on Google Play; carebot polls it',
    };
    this.history.push(item);
    this.emit('change');
    return item;
  }

  /** Every version of every review, and under each review its one developer reply. */
  items(): CustomerItem[] {
    const replies = this.api.reviews.flatMap((r): CustomerItem[] => {
      const first = this.history.find((i) => i.conversationId === r.reviewId);
      if (!r.reply || !first) return [];
      return [
        {
          platform: 'google_play',
          id: `reply:${r.reviewId}`,
          conversationId: r.reviewId,
          parentId: first.id,
          kind: 'brand',
          author: { name: 'Acme (developer reply)' },
          text: r.reply.text,
          at: new Date(r.reply.lastEdited * 1000).toISOString(),
        },
      ];
    });
    return [...this.history, ...replies];
  }
}
