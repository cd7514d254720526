import type { App } from '@slack/bolt';
import { queueOverview } from '../../care/overview.js';
import type { ListenerContext } from '../context.js';

export function registerCareStatsCommand(app: App, ctx: ListenerContext): void {
  app.command('/care-stats', async ({ ack, command, respond }) => {
    // Acknowledge within Slack's 3 s first; the figures follow through the response URL.
    await ack();
    const since = new Date(ctx.clock.now().getTime() - 7 * 86_400_000);
    const o = await queueOverview(ctx.db, since, command.user_id);
    await respond({
      response_type: 'ephemeral',
      text: [
        '*Care queue*',
        `• Open: ${o.unclaimed + o.owned} (${o.unclaimed} unclaimed, ${o.owned} claimed; ${o.mine} yours)`,
        `• Last 7 days: ${o.openedSince} opened, ${o.resolvedSince} resolved`,
      ].join('\n'),
    });
  });
}
