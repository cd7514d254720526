/**
 * The acknowledgement benchmark's baseline: a Bolt app on its HTTPReceiver whose only listener acks
 * the Claim button and does nothing else. Started like carebot (test/reliability/support/process.ts).
 */
import { App, HTTPReceiver, LogLevel } from '@slack/bolt';

const receiver = new HTTPReceiver({
  signingSecret: process.env.SLACK_SIGNING_SECRET ?? '',
  endpoints: '/slack/events',
  processBeforeResponse: false,
  logLevel: LogLevel.ERROR,
});
const app = new App({
  token: process.env.SLACK_BOT_TOKEN ?? '',
  receiver,
  clientOptions: { slackApiUrl: process.env.SLACK_API_URL ?? '' },
  logLevel: LogLevel.ERROR,
  deferInitialization: true,
});
await app.init();
app.action('case_claim', async ({ ack }) => {
  await ack();
});
const server = await receiver.start(0);
const address = server.address();
const port = typeof address === 'object' && address ? address.port : 0;
process.send?.({ type: 'ready', port, pid: process.pid });
process.on('message', (m: { type: string }) => {
  if (m.type === 'stop') void receiver.stop().then(() => process.exit(0));
});
