import type { App } from '@slack/bolt';
import type { ListenerContext } from '../context.js';
import { registerEscalateSubmit } from './escalate-submit.js';
import { registerEscalationAnswer } from './escalation-answer.js';
import { registerIncidentSubmit } from './incident-submit.js';
import { registerReplySubmit } from './reply-submit.js';
import { registerSavedReplySave } from './saved-reply-save.js';
import { registerStatementSubmit } from './statement-submit.js';

export function registerViews(app: App, ctx: ListenerContext): void {
  registerEscalateSubmit(app, ctx);
  registerReplySubmit(app, ctx);
  registerSavedReplySave(app, ctx);
  registerEscalationAnswer(app, ctx);
  registerIncidentSubmit(app, ctx);
  registerStatementSubmit(app, ctx);
}
