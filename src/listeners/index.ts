import type { App } from '@slack/bolt';
import { registerActions } from './actions/index.js';
import { registerCommands } from './commands/index.js';
import type { ListenerContext } from './context.js';
import { registerEvents } from './events/index.js';
import { registerViews } from './views/index.js';

export type { ListenerContext };

export function registerListeners(app: App, ctx: ListenerContext): void {
  registerActions(app, ctx);
  registerViews(app, ctx);
  registerCommands(app, ctx);
  registerEvents(app, ctx);
}
