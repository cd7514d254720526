import type { ButtonArgs } from '../context.js';

/** A link button still sends an action; acknowledging it keeps Slack from showing an error. */
export async function openOriginal({ ack }: ButtonArgs): Promise<void> {
  await ack();
}
