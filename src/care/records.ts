/**
 * The records care/ hands to the Slack layer, and the database handle the listeners pass back to
 * care/. listeners/ and slack/ import these types from here, never from db/: every query stays in
 * care/, where a test reaches it without Slack.
 */
export type { Database } from '../db/client.js';
export type {
  CaseRow,
  CrisisAlertRow,
  CrisisPeriodRow,
  EscalationRow,
  IncidentRow,
  ReplyRow,
  SavedReplyRow,
} from '../db/schema.js';
