import type { App } from '@slack/bolt';
import { queueOverview } from '../../care/overview.js';
import { careHelp } from '../commands/care.js';
import type { ListenerContext } from '../context.js';

export function registerAppHomeOpened(app: App, ctx: ListenerContext): void {
  app.event('app_home_opened', async ({ event, client }) => {
    if (event.tab !== 'home') return;
    const since = new Date(ctx.clock.now().getTime() - 7 * 86_400_000);
    const o = await queueOverview(ctx.db, since, event.user);
    await client.views.publish({
      user_id: event.user,
      view: {
        type: 'home',
        blocks: [
          { type: 'section', text: { type: 'mrkdwn', text: careHelp(ctx.config) } },
          { type: 'divider' },
          {
            type: 'section',
            text: {
              type: 'mrkdwn',
              text: `*Your open cases:* ${o.mine}\n*Unclaimed:* ${o.unclaimed}\n*Opened in the last 7 days:* ${o.openedSince}`,
            },
          },
        ],
      },
    });
  });
}
