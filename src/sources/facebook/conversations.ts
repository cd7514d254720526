import { xConversationLookup } from '../x/conversations.js';

/**
 * The conversation of a post or comment carebot already holds (a visitor post, a customer's
 * comment, or a reply it sent), by source key and Graph id: Facebook's webhooks name only the
 * parent a new comment answers. The query is the same as X's (messages by source key and external
 * id), so it is shared rather than copied.
 */
export const facebookConversationLookup = xConversationLookup;
