import type { App } from '@slack/bolt';
import type { ListenerContext } from '../context.js';
import { registerClaimCase } from './claim-case.js';
import { registerCrisisButtons } from './crisis-buttons.js';
import { registerEscalateCase } from './escalate-case.js';
import { registerEscalationButtons } from './escalation-buttons.js';
import { registerIncidentButtons } from './incident-buttons.js';
import { registerPlatformButtons } from './platform-buttons.js';
import { registerReplyButtons } from './reply-buttons.js';
import { registerReplyCase } from './reply-case.js';
import { registerResolveCase } from './resolve-case.js';
import { registerSavedReplyButtons } from './saved-replies.js';
import { registerStatementButtons } from './statement-buttons.js';
import { registerUnclaimCase } from './unclaim-case.js';

export function registerActions(app: App, ctx: ListenerContext): void {
  registerClaimCase(app, ctx);
  registerUnclaimCase(app, ctx);
  registerEscalateCase(app, ctx);
  registerResolveCase(app, ctx);
  registerReplyButtons(app, ctx);
  registerPlatformButtons(app, ctx);
  registerReplyCase(app, ctx);
  registerSavedReplyButtons(app, ctx);
  registerEscalationButtons(app, ctx);
  registerCrisisButtons(app, ctx);
  registerIncidentButtons(app, ctx);
  registerStatementButtons(app, ctx);
}
