import { careStats } from '../../care/stats.js';
import { caseExport, casesCsv } from '../../care/stats-export.js';
import { sourceKeysNamed } from '../../care/stats-filter.js';
import { statsPeriod } from '../../care/stats-period.js';
import type { StatsRequest } from '../../care/stats-query.js';
import { shareFile } from '../../slack/files.js';
import { fitMessage } from '../../slack/limits.js';
import { escapeText } from '../../slack/mrkdwn.js';
import {
  channelProblemText,
  filterLabel,
  periodDates,
  postStats,
  slackErrorCode,
  statsMessage,
  threadLink,
} from '../../slack/stats.js';
import { parseStatsArgs, REFUSAL_TEXT, usageText } from '../../slack/stats-args.js';
import type { CommandArgs, ListenerContext } from '../context.js';

/** `/care-stats …`: the figures follow the acknowledgement through the response URL. */
export async function careStatsCommand(args: CommandArgs): Promise<void> {
  const ctx = args.context.carebot;
  // Acknowledge within Slack's 3 s first; the figures follow through the response URL.
  await args.ack();
  try {
    await answerCareStats(ctx, args);
  } catch (err) {
    ctx.logger.error({ err }, '/care-stats failed');
    await args.respond({
      response_type: 'ephemeral',
      text: ':warning: The figures could not be worked out just now. Try again in a minute.',
    });
  }
}

/** `/care-stats [period] [platform|source] [@agent] [public|csv]` for the care managers. */
export async function answerCareStats(ctx: ListenerContext, { command, respond, client }: CommandArgs) {
  const ephemeral = (text: string) => respond({ response_type: 'ephemeral', text });
  const may = await ctx.permissions.check({ userId: command.user_id }, { action: 'stats' });
  if (!may.allowed) {
    await ephemeral(may.reason === 'not_permitted' ? REFUSAL_TEXT : may.message);
    return;
  }
  const now = ctx.clock.now();
  const zone = ctx.config.timezone;
  const parsed = parseStatsArgs(command.text ?? '', now, zone);
  if (!parsed.ok) {
    await ephemeral(usageText(parsed.problem));
    return;
  }
  const a = parsed.args;
  const sourceKeys = a.sourceName ? await sourceKeysNamed(ctx.db, ctx.config, a.sourceName) : undefined;
  if (a.sourceName && !sourceKeys) {
    await ephemeral(usageText(`No platform or source is called \`${escapeText(a.sourceName)}\``));
    return;
  }
  const req: StatsRequest = {
    period: statsPeriod(a.period, now, zone),
    filter: { platform: a.platform, sourceKeys, agentId: a.agentId },
    now,
    businessHours: ctx.config.businessHours,
  };
  if (a.output === 'csv') {
    const rows = await caseExport(ctx.db, req);
    const days = req.period.days;
    const label = filterLabel(a);
    try {
      await shareFile(client, {
        channelId: command.channel_id,
        filename: `care-cases-${days[0]}-${days[days.length - 1]}.csv`,
        title: `Cases opened ${periodDates(req.period)}`,
        bytes: Buffer.from(casesCsv(rows, zone), 'utf8'),
        initialComment: `Cases opened ${periodDates(req.period)}${label ? ` (${label})` : ''}: ${rows.length}, for <@${command.user_id}>.`,
      });
    } catch (err) {
      await ephemeral(channelProblemText(slackErrorCode(err)));
      return;
    }
    await ephemeral(`:page_facing_up: Posted ${rows.length} cases as a CSV file in this channel.`);
    return;
  }
  const stats = await careStats(ctx.db, req);
  const oldest = stats.backlog.oldestWaiting;
  const options = {
    teams: ctx.config.teams,
    businessHours: ctx.config.businessHours,
    filterLabel: filterLabel(a),
    oldestWaitingLink: oldest ? await threadLink(client, oldest.caseId, oldest.thread) : undefined,
  };
  if (a.output === 'public') {
    try {
      await postStats(client, command.channel_id, stats, options, ctx.logger);
      return;
    } catch (err) {
      // The reader still gets the figures, privately, with the reason they were not posted.
      const problem = channelProblemText(slackErrorCode(err));
      const message = statsMessage(stats, { ...options, chart: 'on_request' });
      const withProblem = fitMessage({
        text: message.text,
        blocks: [{ type: 'section', text: { type: 'mrkdwn', text: problem } }, ...message.blocks],
      });
      await respond({
        response_type: 'ephemeral',
        text: withProblem.text,
        blocks: withProblem.blocks,
      });
      return;
    }
  }
  const message = statsMessage(stats, { ...options, chart: 'on_request' });
  await respond({ response_type: 'ephemeral', text: message.text, blocks: message.blocks });
}
