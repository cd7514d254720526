import type { App } from '@slack/bolt';
import { ACTIONS } from '../../slack/case-card.js';
import { CRISIS_ACTIONS } from '../../slack/crisis.js';
import { ESCALATION_ACTIONS } from '../../slack/escalation.js';
import { INCIDENT_ACTIONS, STATEMENT_CANCEL } from '../../slack/incident.js';
import { REPLY_ACTIONS } from '../../slack/replies.js';
import { SAVED_REPLY_ACTIONS } from '../../slack/saved-replies.js';
import type { CarebotContext } from '../context.js';
import { acknowledgeEscalation } from './acknowledge-escalation.js';
import { addSavedReply } from './add-saved-reply.js';
import { answerEscalation } from './answer-escalation.js';
import { approveReply } from './approve-reply.js';
import { cancelReply } from './cancel-reply.js';
import { cancelStatement } from './cancel-statement.js';
import { claimCase } from './claim-case.js';
import { crisisModeOff } from './crisis-mode-off.js';
import { crisisModeOn } from './crisis-mode-on.js';
import { customerMenu } from './customer-menu.js';
import { deleteSavedReply } from './delete-saved-reply.js';
import { editIncident } from './edit-incident.js';
import { editReplyDraft } from './edit-reply-draft.js';
import { editSavedReply } from './edit-saved-reply.js';
import { endWaiting } from './end-waiting.js';
import { escalateCase } from './escalate-case.js';
import { linkCaseToIncident } from './link-case-to-incident.js';
import { markWaiting } from './mark-waiting.js';
import { moveToDm } from './move-to-dm.js';
import { openIncident } from './open-incident.js';
import { openOriginal } from './open-original.js';
import { pickSavedReply } from './pick-saved-reply.js';
import { recordRepliedOnSite } from './record-replied-on-site.js';
import { rejectReply } from './reject-reply.js';
import { reopenCase } from './reopen-case.js';
import { replyToCase } from './reply-case.js';
import { resolveCase } from './resolve-case.js';
import { resolveIncident } from './resolve-incident.js';
import { retryReply } from './retry-reply.js';
import { reviewStatement } from './review-statement.js';
import { sendReplyAnyway } from './send-reply-anyway.js';
import { setCasePriority } from './set-priority.js';
import { showHistory } from './show-history.js';
import { takeOverCase } from './take-over-case.js';
import { unclaimCase } from './unclaim-case.js';

/** Buttons and selects, by action id (DESIGN.md: the ids are an external contract). */
export function registerActions(app: App<CarebotContext>): void {
  // The case card (and the App Home's copies of its buttons).
  app.action(ACTIONS.claim, claimCase);
  app.action(ACTIONS.takeOver, takeOverCase);
  app.action(ACTIONS.priority, setCasePriority);
  app.action(ACTIONS.unclaim, unclaimCase);
  app.action(ACTIONS.escalate, escalateCase);
  app.action(ACTIONS.resolve, resolveCase);
  app.action(ACTIONS.reopen, reopenCase);
  app.action(ACTIONS.reply, replyToCase);
  app.action(ACTIONS.repliedOnSite, recordRepliedOnSite);
  app.action(ACTIONS.moveToPrivate, moveToDm);
  app.action(ACTIONS.openOriginal, openOriginal);
  app.action(ACTIONS.waiting, markWaiting);
  app.action(ACTIONS.notWaiting, endWaiting);
  app.action(INCIDENT_ACTIONS.linkCase, linkCaseToIncident);
  // The card's customer row: History, and the customer menu (same person, note and VIP).
  app.action(ACTIONS.history, showHistory);
  app.action(ACTIONS.samePerson, customerMenu);
  // A reply's private notices and its ⚠️ message.
  app.action(REPLY_ACTIONS.cancel, cancelReply);
  app.action(REPLY_ACTIONS.sendAnyway, sendReplyAnyway);
  app.action(REPLY_ACTIONS.retry, retryReply);
  // A trainee's reply waiting for approval, in the case thread.
  app.action(REPLY_ACTIONS.approve, approveReply);
  app.action(REPLY_ACTIONS.edit, editReplyDraft);
  app.action(REPLY_ACTIONS.reject, rejectReply);
  // The Reply modal and `/care replies`.
  app.action(SAVED_REPLY_ACTIONS.pick, pickSavedReply);
  app.action(SAVED_REPLY_ACTIONS.add, addSavedReply);
  app.action(SAVED_REPLY_ACTIONS.edit, editSavedReply);
  app.action(SAVED_REPLY_ACTIONS.delete, deleteSavedReply);
  // An escalation's message in the case thread.
  app.action(ESCALATION_ACTIONS.acknowledge, acknowledgeEscalation);
  app.action(ESCALATION_ACTIONS.answer, answerEscalation);
  // Crisis alerts, the banner, and incidents.
  app.action(CRISIS_ACTIONS.modeOn, crisisModeOn);
  app.action(CRISIS_ACTIONS.modeOff, crisisModeOff);
  app.action(CRISIS_ACTIONS.openIncident, openIncident);
  app.action(INCIDENT_ACTIONS.edit, editIncident);
  app.action(INCIDENT_ACTIONS.resolve, resolveIncident);
  app.action(INCIDENT_ACTIONS.sendStatement, reviewStatement);
  app.action(STATEMENT_CANCEL, cancelStatement);
}
