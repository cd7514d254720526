import type { CheckDeps, CheckLine } from '../types.js';
import { type GraphResponse, GraphUnreachable, graphCalls, isRecord } from './client.js';
import type { FacebookPage, FacebookSettings } from './config.js';
import {
  classifyGraphFailure,
  describeGraphError,
  graphError,
  permissionHint,
  tokenHint,
  tokenProblem,
} from './errors.js';

/**
 * Each Page's token works and is the Page's (`GET /me`), and may read the Page's feed (the
 * permissions a poll needs). Sending needs write permissions that only a post would show, so those
 * are named in the hint rather than tried.
 */
export async function checkFacebook(settings: FacebookSettings, deps: CheckDeps): Promise<CheckLine[]> {
  const lines = await Promise.all(settings.pages.map((page) => checkPage(page, settings, deps)));
  return lines.flat();
}

async function checkPage(
  page: FacebookPage,
  settings: FacebookSettings,
  deps: CheckDeps,
): Promise<CheckLine[]> {
  const what = `Facebook Page "${page.name}"`;
  const { get } = graphCalls(page, settings.apiUrl, settings.apiVersion, deps.timeoutMs);
  const me = await answer(() => get('/me', { fields: 'id,name' }));
  if ('line' in me) return [{ ...me.line, what: `${what}: ${me.line.what}` }];
  if (me.res.status !== 200) return [refusal(page, what, me.res, deps, 'pages_read_engagement')];
  const body = isRecord(me.res.body) ? me.res.body : {};
  if (body.id !== page.pageId)
    return [
      {
        ok: false,
        what: `${what}: the token is not a token of Page ${page.pageId} (it is for ${String(body.id)})`,
        fix: `generate a Page access token for the Page itself (not a user token), then ${tokenHint(page).split('; ')[0]}`,
      },
    ];
  const lines: CheckLine[] = [
    { ok: true, what: `${what}: the Page token works (${String(body.name ?? page.pageId)})` },
  ];
  const feed = await answer(() => get(`/${page.pageId}/feed`, { limit: 1, fields: 'id' }));
  if ('line' in feed) lines.push({ ...feed.line, what: `${what}: ${feed.line.what}` });
  else if (feed.res.status !== 200)
    lines.push(
      refusal(
        page,
        `${what}: reading the Page's posts`,
        feed.res,
        deps,
        'pages_read_engagement and pages_read_user_content',
      ),
    );
  else lines.push({ ok: true, what: `${what}: may read the Page's posts and comments` });
  return lines;
}

async function answer(
  call: () => Promise<GraphResponse>,
): Promise<{ res: GraphResponse } | { line: CheckLine }> {
  try {
    return { res: await call() };
  } catch (err) {
    if (err instanceof GraphUnreachable)
      return { line: { ok: false, what: err.message, fix: 'check the network, or GRAPH_API_URL' } };
    throw err;
  }
}

function refusal(
  page: FacebookPage,
  what: string,
  res: GraphResponse,
  deps: CheckDeps,
  needed: string,
): CheckLine {
  const error = graphError(res.body);
  const said = describeGraphError(page, error, res.status);
  const problem = classifyGraphFailure(res, error, deps.clock.now());
  if (problem.kind === 'token')
    return { ok: false, what: `${tokenProblem(page, error)} (${said})`, fix: tokenHint(page) };
  if (error.code === 100 && /appsecret_proof/i.test(said))
    return {
      ok: false,
      what: `${what}: Graph refuses the app secret's proof (${said})`,
      fix:
        page.name === 'default'
          ? 'set FACEBOOK_APP_SECRET to the secret of the Meta app the Page token was issued to (App settings → Basic)'
          : `set app_secret of "${page.name}" under sources.facebook.pages to the secret of the Meta app the token was issued to`,
    };
  if (problem.kind === 'permission')
    return {
      ok: false,
      what: `${what}: a permission is missing (${said})`,
      fix: permissionHint(page, needed),
    };
  return {
    ok: false,
    what: `${what}: Graph refused (${said})`,
    fix: 'try again later; if it stays, see metastatus.com',
  };
}
