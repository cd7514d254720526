import { type GraphResponse, GraphUnreachable, graphCalls, isRecord } from '../facebook/client.js';
import { type FacebookPage, facebookConfig } from '../facebook/config.js';
import { classifyGraphFailure, describeGraphError, graphError, permissionHint } from '../facebook/errors.js';
import type { CheckDeps, CheckLine } from '../types.js';

/** Each Instagram account linked to a Page can be read with that Page's token (`instagram_basic`). */
export async function checkInstagram(_settings: unknown, deps: CheckDeps): Promise<CheckLine[]> {
  const facebook = deps.settingsOf(facebookConfig);
  const linked = facebook.pages.filter((page) => page.instagramAccountId);
  const lines = await Promise.all(
    linked.map(async (page): Promise<CheckLine | undefined> => {
      const id = page.instagramAccountId as string;
      const what = `Instagram account ${id} (Page "${page.name}")`;
      const { get } = graphCalls(page, facebook.apiUrl, facebook.apiVersion, deps.timeoutMs);
      let res: GraphResponse;
      try {
        res = await get(`/${id}`, { fields: 'id,username' });
      } catch (err) {
        if (err instanceof GraphUnreachable)
          return { ok: false, what: `${what}: ${err.message}`, fix: 'check the network, or GRAPH_API_URL' };
        throw err;
      }
      const body = isRecord(res.body) ? res.body : {};
      if (res.status === 200 && body.id === id)
        return { ok: true, what: `${what}: readable as @${String(body.username ?? id)}` };
      return refusal(page, what, res, deps);
    }),
  );
  return lines.filter((line) => line !== undefined);
}

/** Undefined when the Page token itself is refused: that is the Page's own line already. */
function refusal(
  page: FacebookPage,
  what: string,
  res: GraphResponse,
  deps: CheckDeps,
): CheckLine | undefined {
  const error = graphError(res.body);
  const said = describeGraphError(page, error, res.status);
  const problem = classifyGraphFailure(res, error, deps.clock.now());
  if (problem.kind === 'permission' || problem.kind === 'not_found')
    return {
      ok: false,
      what: `${what}: not readable with the Page token (${said})`,
      fix: `check that the account is the Instagram professional account linked to the Page; ${permissionHint(page, 'instagram_basic and instagram_manage_comments')}`,
    };
  if (problem.kind === 'token') return undefined;
  return {
    ok: false,
    what: `${what}: Graph refused (${said})`,
    fix: 'fix the Facebook Page line first, then run the check again',
  };
}
