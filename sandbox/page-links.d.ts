/** Types of page-links.js, the sandbox page's link rendering (plain JavaScript, served to the browser). */
export function esc(s: unknown): string;
export function safeHref(url: unknown): string | undefined;
export function linkHtml(url: unknown, labelHtml: string): string;
export function slackLinkHtml(target: string, label: string | undefined): string;
