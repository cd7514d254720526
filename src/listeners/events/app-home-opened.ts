import type { App } from '@slack/bolt';
import { homeLists } from '../../care/overview.js';
import { homeView } from '../../slack/home.js';
import { careHelp } from '../commands/care.js';
import type { ListenerContext } from '../context.js';

export function registerAppHomeOpened(app: App, ctx: ListenerContext): void {
  app.event('app_home_opened', async ({ event, client }) => {
    if (event.tab !== 'home') return;
    const myTeams = await ctx.permissions.teamsOf(event.user);
    const lists = await homeLists(ctx.db, event.user, myTeams);
    await client.views.publish({ user_id: event.user, view: homeView(lists, careHelp(ctx.config)) as never });
  });
}
