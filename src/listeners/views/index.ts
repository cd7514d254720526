import type { App } from '@slack/bolt';
import type { ListenerContext } from '../context.js';
import { registerEscalateSubmit } from './escalate-submit.js';

export function registerViews(app: App, ctx: ListenerContext): void {
  registerEscalateSubmit(app, ctx);
}
