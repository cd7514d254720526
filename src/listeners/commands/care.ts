import { type Duration, formatDuration } from '../../care/clock.js';
import { listSavedReplies } from '../../care/saved-replies.js';
import { savedRepliesModal } from '../../slack/saved-replies.js';
import type { CommandArgs } from '../context.js';
import { careCrisis } from './care-crisis.js';
import { careForget } from './care-forget.js';
import { careIncident } from './care-incident.js';

export const careHelp = (config: { reopenWithin: Duration; careTeamUsergroup?: string | null }) =>
  [
    ...(config.careTeamUsergroup
      ? []
      : [
          ':warning: No care-team user group is set (`care_team_usergroup`): every full member of this workspace, except guests, people from other organisations and escalation-team members, can claim cases and answer customers.',
        ]),
    '*carebot* brings customer complaints into this workspace as threads you can claim and answer.',
    '• *Claim* a case to own it; *Unclaim* to let it go; *Escalate* to pull in PR, product or marketing.',
    "• The owner's replies in the thread go to the customer after a short undo window; start a reply with `note:` to keep it internal. Everyone else's replies are notes.",
    '• *Reply* on the card answers from a saved reply; `/care replies` manages them.',
    `• *Resolve* when done; a customer who writes again within ${formatDuration(config.reopenWithin)} reopens the case.`,
    '• `/care-stats` shows how the queue is doing.',
    '• `/care crisis on` / `off` switches crisis mode (tighter SLA targets); `/care incident open "title"` opens an incident.',
    "• `/care forget <case number>` erases what a customer wrote, in every case of theirs (managers), at the customer's request.",
  ].join('\n');

/** `/care`: `crisis …`, `incident …` and `forget …` answer privately, `replies` opens the saved replies, else the help. */
export async function careCommand({ ack, command, client, respond, context }: CommandArgs): Promise<void> {
  const ctx = context.carebot;
  const [sub] = command.text.trim().toLowerCase().split(/\s+/);
  if (sub === 'crisis' || sub === 'incident') {
    await ack();
    const args = command.text.trim().slice(sub.length);
    const handle = sub === 'crisis' ? careCrisis : careIncident;
    await respond({ response_type: 'ephemeral', text: await handle(ctx, command, args) });
    return;
  }
  if (sub === 'forget') {
    await ack();
    const args = command.text.trim().slice(sub.length);
    await careForget(ctx, client, command, args, (text) => respond({ response_type: 'ephemeral', text }));
    return;
  }
  if (sub === 'replies') {
    await ack();
    await client.views.open({
      trigger_id: command.trigger_id,
      view: savedRepliesModal(await listSavedReplies(ctx.db)),
    });
    return;
  }
  await ack({ response_type: 'ephemeral', text: careHelp(ctx.config) });
}
