import type { App } from '@slack/bolt';
import type { ListenerContext } from '../context.js';
import { registerCareCommand } from './care.js';
import { registerCareStatsCommand } from './care-stats.js';

export function registerCommands(app: App, ctx: ListenerContext): void {
  registerCareCommand(app, ctx);
  registerCareStatsCommand(app, ctx);
}
