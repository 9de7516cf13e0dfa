// The real research engine (src/wiring/engine.ts: prompts, Pyodide sandbox, web tools) wired to the
// local fakes: a scripted model server, SearXNG and a small web. Platform end-to-end tests put their
// adapter in front of it.
//
//   const stack = await startResearchStack((articleUrl, ctx) => ctx.call === 0 ? codeStep('...') : '...');
//   ... stack.engine ...
//   await stack.close();
import { type Env, parseConfig } from '../../src/config.ts';
import type { ResearchEngine } from '../../src/engine/events.ts';
import { silentLogger } from '../../src/util/log.ts';
import { buildEngine } from '../../src/wiring/engine.ts';
import { type FakeLlm, type ScriptContext, type Turn, startFakeLlm } from './llm.ts';
import { type FakeSearch, fakeResults, startFakeSearch } from './search.ts';
import { ARTICLES, type FakeWeb, startFakeWeb } from './web.ts';

export interface ResearchStack {
  engine: ResearchEngine;
  env: Env;
  web: FakeWeb;
  search: FakeSearch;
  llm: FakeLlm;
  /** URLs of the fake web's articles (the search results point at the first two). */
  articleUrls: string[];
  close(): Promise<void>;
}

/** A model turn that runs `body` as its code step. */
export const codeStep = (body: string): string =>
  `I need to look this up.\n<start_code>\n\`\`\`python\n${body}\n\`\`\`\n<end_code>\n`;

/** `script` is given the article URLs and the call context and returns the model's turn. */
export async function startResearchStack(script: (articleUrls: string[], ctx: ScriptContext) => Turn): Promise<ResearchStack> {
  const web = await startFakeWeb();
  const articleUrls = ARTICLES.map((a) => `${web.url}${a.path}`);
  const search = await startFakeSearch({ results: fakeResults(web.url, [ARTICLES[0].path, ARTICLES[1].path]) });
  const llm = await startFakeLlm((ctx: ScriptContext) => script(articleUrls, ctx));
  const env = parseConfig({
    CIR_LLM_BASE_URL: llm.baseUrl,
    CIR_SEARCH_PROVIDER: 'searxng',
    CIR_SEARXNG_URL: search.searxngUrl,
    CIR_FETCH_ALLOW_HOSTS: web.allowHost,
    CIR_SANDBOX_POOL_SIZE: '1',
    CIR_MAX_STEPS: '6',
  });
  const built = await buildEngine(env, silentLogger);
  return {
    engine: built.engine,
    env,
    web,
    search,
    llm,
    articleUrls,
    async close() {
      await built.close();
      await Promise.all([llm.close(), search.close(), web.close()]);
    },
  };
}
