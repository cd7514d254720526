import type { App } from '@slack/bolt';
import { registerActions } from './actions/index.js';
import { registerCommands } from './commands/index.js';
import type { CarebotContext, ListenerContext } from './context.js';
import { registerEvents } from './events/index.js';
import { registerViews } from './views/index.js';

export type { CarebotContext, ListenerContext };

/**
 * Puts carebot's listener context on every request's Bolt context (`context.carebot`), then wires
 * each kind's ids to its handlers.
 */
export function registerListeners(app: App<CarebotContext>, ctx: ListenerContext): void {
  app.use(async ({ context, next }) => {
    context.carebot = ctx;
    await next();
  });
  registerActions(app);
  registerViews(app);
  registerCommands(app);
  registerEvents(app);
}
