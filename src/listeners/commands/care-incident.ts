import type { SlashCommand } from '@slack/bolt';
import { openIncident, openIncidents } from '../../care/incidents.js';
import { incidentTexts } from '../../slack/incident.js';
import { escapeText } from '../../slack/mrkdwn.js';
import type { ListenerContext } from '../context.js';

export const INCIDENT_USAGE =
  '`/care incident open "Checkout outage"` opens an incident with you as its lead; `/care incident list` lists the open ones.';

/** The title after `open`: in quotes (straight or curly), or the rest of the line. */
export function incidentTitle(args: string): string | undefined {
  const rest = args.trim();
  const quoted = /^["“”'‘’](.+?)["“”'‘’]\s*$/.exec(rest);
  const title = (quoted ? quoted[1] : rest)?.trim();
  return title ? title.slice(0, 150) : undefined;
}

/** `/care incident open "title"` and `/care incident list`; answers privately. */
export async function careIncident(
  ctx: ListenerContext,
  command: SlashCommand,
  args: string,
): Promise<string> {
  const trimmed = args.trim();
  const [what] = trimmed.split(/\s+/);
  if (what?.toLowerCase() === 'open') {
    const may = await ctx.permissions.check({ userId: command.user_id }, { action: 'incident' });
    if (!may.allowed) return may.message;
    const title = incidentTitle(trimmed.slice(what.length));
    if (!title) return `Give the incident a title: ${INCIDENT_USAGE}`;
    const result = await openIncident(ctx.db, ctx.clock, {
      title,
      userId: command.user_id,
      requestKey: `command:${command.trigger_id}`,
      channelId: ctx.config.crisis.channelId,
      texts: incidentTexts,
    });
    ctx.kickSync();
    ctx.logger.info({ incidentId: result.incident.id, userId: command.user_id }, 'incident opened');
    return `Opened incident #${result.incident.id} “${escapeText(result.incident.title)}” in <#${result.incident.channelId}>, with you as its lead. Use *Edit* on it to choose the approved statement and the keywords that link cases.`;
  }
  if (what?.toLowerCase() === 'list') {
    const open = await openIncidents(ctx.db);
    if (open.length === 0) return 'No incident is open.';
    return open.map((i) => `• #${i.id} ${escapeText(i.title)} (${i.status}, lead <@${i.leadId}>)`).join('\n');
  }
  return INCIDENT_USAGE;
}
