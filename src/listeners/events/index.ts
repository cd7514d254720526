import type { App } from '@slack/bolt';
import type { CarebotContext } from '../context.js';
import { appHomeOpened } from './app-home-opened.js';
import { threadMessage } from './message.js';

/** Events the app subscribes to (manifest.yml). */
export function registerEvents(app: App<CarebotContext>): void {
  app.event('app_home_opened', appHomeOpened);
  app.event('message', threadMessage);
}
