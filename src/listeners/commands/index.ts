import type { App } from '@slack/bolt';
import type { CarebotContext } from '../context.js';
import { careCommand } from './care.js';
import { careStatsCommand } from './care-stats.js';

/** Slash commands (manifest.yml declares them). */
export function registerCommands(app: App<CarebotContext>): void {
  app.command('/care', careCommand);
  app.command('/care-stats', careStatsCommand);
}
