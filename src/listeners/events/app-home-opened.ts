import { homeLists } from '../../care/overview.js';
import { homeView } from '../../slack/home.js';
import { careHelp } from '../commands/care.js';
import type { EventArgs } from '../context.js';

/** The App Home tab: my cases, unclaimed ones, and those waiting on my teams. */
export async function appHomeOpened({ event, client, context }: EventArgs<'app_home_opened'>): Promise<void> {
  if (event.tab !== 'home') return;
  const ctx = context.carebot;
  const myTeams = await ctx.permissions.teamsOf(event.user);
  const lists = await homeLists(ctx.db, event.user, myTeams);
  await client.views.publish({ user_id: event.user, view: homeView(lists, careHelp(ctx.config)) });
}
