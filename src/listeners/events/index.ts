import type { App } from '@slack/bolt';
import type { ListenerContext } from '../context.js';
import { registerAppHomeOpened } from './app-home-opened.js';
import { registerMessage } from './message.js';

export function registerEvents(app: App, ctx: ListenerContext): void {
  registerAppHomeOpened(app, ctx);
  registerMessage(app, ctx);
}
