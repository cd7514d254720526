import type { App } from '@slack/bolt';
import type { ListenerContext } from '../context.js';

export const CARE_HELP = [
  '*carebot* brings customer complaints into this workspace as threads you can claim and answer.',
  '• *Claim* a case to own it; *Unclaim* to let it go; *Escalate* to pull in PR, product or marketing.',
  '• `/care-stats` shows how the queue is doing.',
  '• `/care help` shows this message.',
].join('\n');

export function registerCareCommand(app: App, _ctx: ListenerContext): void {
  app.command('/care', async ({ ack }) => {
    await ack({ response_type: 'ephemeral', text: CARE_HELP });
  });
}
