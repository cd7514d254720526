import type { App } from '@slack/bolt';
import { APPROVAL_VIEWS } from '../../slack/approval.js';
import { CUSTOMER_NOTE_VIEW, SAME_PERSON_VIEW } from '../../slack/customers.js';
import { ANSWER_VIEW, ESCALATE_VIEW } from '../../slack/escalation.js';
import { FORGET_VIEW } from '../../slack/forget.js';
import { INCIDENT_VIEWS } from '../../slack/incident.js';
import { REPLY_VIEW, SAVED_REPLY_EDITOR_VIEW } from '../../slack/saved-replies.js';
import type { CarebotContext } from '../context.js';
import { approvalEditSubmit } from './approval-edit-submit.js';
import { approvalRejectSubmit } from './approval-reject-submit.js';
import { customerNoteSubmit } from './customer-note-submit.js';
import { escalateSubmit } from './escalate-submit.js';
import { escalationAnswerSubmit } from './escalation-answer.js';
import { forgetSubmit } from './forget-submit.js';
import { incidentEditSubmit } from './incident-edit-submit.js';
import { incidentLinkSubmit } from './incident-link-submit.js';
import { replySubmit } from './reply-submit.js';
import { samePersonSubmit } from './same-person-submit.js';
import { savedReplySave } from './saved-reply-save.js';
import { statementSubmit } from './statement-submit.js';

/** Modal submissions, by callback id. */
export function registerViews(app: App<CarebotContext>): void {
  app.view(ESCALATE_VIEW, escalateSubmit);
  app.view(REPLY_VIEW, replySubmit);
  app.view(SAVED_REPLY_EDITOR_VIEW, savedReplySave);
  app.view(ANSWER_VIEW, escalationAnswerSubmit);
  app.view(INCIDENT_VIEWS.edit, incidentEditSubmit);
  app.view(INCIDENT_VIEWS.link, incidentLinkSubmit);
  app.view(INCIDENT_VIEWS.statement, statementSubmit);
  app.view(FORGET_VIEW, forgetSubmit);
  app.view(SAME_PERSON_VIEW, samePersonSubmit);
  app.view(CUSTOMER_NOTE_VIEW, customerNoteSubmit);
  app.view(APPROVAL_VIEWS.edit, approvalEditSubmit);
  app.view(APPROVAL_VIEWS.reject, approvalRejectSubmit);
}
