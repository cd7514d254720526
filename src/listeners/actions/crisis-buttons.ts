import type { App, BlockButtonAction } from '@slack/bolt';
import { CRISIS_ACTIONS } from '../../slack/crisis.js';
import { caseIdFrom, type ListenerContext } from '../context.js';
import { turnCrisisModeOff, turnCrisisModeOn } from '../crisis-mode.js';

/** Crisis mode on and off from an alert, its all-clear or the banner; the answer is private. */
export function registerCrisisButtons(app: App, ctx: ListenerContext): void {
  const tell = async (
    body: BlockButtonAction,
    client: Parameters<Parameters<App['action']>[1]>[0]['client'],
    text: string,
  ) => {
    const channel = body.channel?.id;
    if (!channel) return;
    await client.chat.postEphemeral({
      channel,
      user: body.user.id,
      text,
      ...(body.message?.thread_ts ? { thread_ts: body.message.thread_ts } : {}),
    });
  };
  app.action<BlockButtonAction>(CRISIS_ACTIONS.modeOn, async ({ ack, body, action, client }) => {
    await ack();
    const alertId = caseIdFrom(action.value);
    const text = await turnCrisisModeOn(ctx, {
      userId: body.user.id,
      reason: alertId ? `turned on from alert ${alertId}` : 'turned on by hand',
      alertId,
    });
    await tell(body, client, text);
  });
  app.action<BlockButtonAction>(CRISIS_ACTIONS.modeOff, async ({ ack, body, client }) => {
    await ack();
    await tell(body, client, await turnCrisisModeOff(ctx, body.user.id));
  });
}
