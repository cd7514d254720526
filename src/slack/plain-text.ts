/**
 * Turns what an agent typed in Slack into the plain text a customer should see: Slack's link
 * syntax becomes the URL (with its label when it has one), internal mentions are dropped, and
 * Slack's HTML entities are undone.
 */
export function slackToPlain(text: string): string {
  const converted = text.replace(/<([^<>]+)>/g, (_whole, inner: string) => {
    const [target = '', label] = inner.split('|', 2);
    if (target.startsWith('@') || target.startsWith('#') || target.startsWith('!')) {
      // User, channel and special mentions mean nothing outside the workspace.
      return label && target.startsWith('#') ? `#${label}` : '';
    }
    const url = target.startsWith('mailto:') ? target.slice('mailto:'.length) : target;
    return label && label !== url && label !== target ? `${label} (${url})` : url;
  });
  return converted
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/[ \t]{2,}/g, ' ')
    .trim();
}
