// Fakes of the search backends, speaking their real request/response shapes on 127.0.0.1.
//
// Exports:
//   startFakeSearch(options?): Promise<FakeSearch>   one server for all three backends.
//   FakeSearch.serperUrl   POST JSON {q, num}, header X-API-KEY   -> {searchParameters, organic[{title, link, snippet, position}]}
//   FakeSearch.searxngUrl  base URL; GET /search?q=&format=json  -> {query, results[{url, title, content, engine, ...}]}
//                          (403 unless format=json, as a SearXNG without json in settings.yml; ~20 results, no count)
//   FakeSearch.braveUrl    GET ?q=&count=, header X-Subscription-Token -> {type, query, web: {results[{title, url, description}]}}
//   FakeSearch.serperKey / braveKey   the keys the fake accepts (others get 403 / 401)
//   FakeSearch.results     the results every backend returns (mutable; default: DEFAULT_RESULTS)
//   FakeSearch.failNext(n, mode, retryAfterSeconds?)   the next n requests fail: '500' | '429' | 'hang'
//   FakeSearch.requests    every request seen: {backend, method, query, count, headers}
//   FakeSearch.close()
//   fakeResults(baseUrl, paths)   results pointing at pages of a fake web (see test/fakes/web.ts)
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeResult {
  url: string;
  title: string;
  snippet: string;
}

export type FailMode = '500' | '429' | 'hang';

export interface SeenRequest {
  backend: 'serper' | 'searxng' | 'brave';
  method: string;
  query: string;
  count: number | null;
  headers: IncomingMessage['headers'];
}

export interface FakeSearch {
  url: string;
  serperUrl: string;
  searxngUrl: string;
  braveUrl: string;
  serperKey: string;
  braveKey: string;
  results: FakeResult[];
  requests: SeenRequest[];
  failNext(n: number, mode: FailMode, retryAfterSeconds?: number): void;
  close(): Promise<void>;
}

export const DEFAULT_RESULTS: FakeResult[] = Array.from({ length: 25 }, (_, i) => ({
  url: `https://example.org/page/${i + 1}`,
  title: `Example result <b>${i + 1}</b>`,
  snippet: `Snippet number ${i + 1} about the query &amp; its answer.`,
}));

export function fakeResults(baseUrl: string, paths: string[]): FakeResult[] {
  return paths.map((p, i) => ({ url: `${baseUrl}${p}`, title: `Page ${i + 1}: ${p}`, snippet: `A page about ${p}.` }));
}

export async function startFakeSearch(options: { results?: FakeResult[] } = {}): Promise<FakeSearch> {
  const requests: SeenRequest[] = [];
  let failures: { mode: FailMode; retryAfter?: number }[] = [];
  const serperKey = 'test-serper-key';
  const braveKey = 'test-brave-key';

  const json = (res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(text)), ...extra });
    res.end(text);
  };

  /** Applies a queued failure; true if the request was answered (or left hanging). */
  const fail = (res: ServerResponse): boolean => {
    const f = failures.shift();
    if (!f) return false;
    if (f.mode === 'hang') return true;
    if (f.mode === '429') json(res, 429, { message: 'Too many requests' }, f.retryAfter !== undefined ? { 'retry-after': String(f.retryAfter) } : {});
    else json(res, 500, { message: 'Internal error' });
    return true;
  };

  const server = createServer(async (req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    let raw = '';
    for await (const chunk of req) raw += chunk;
    if (req.method === 'POST' && u.pathname === '/serper/search') {
      let body: { q?: unknown; num?: unknown } = {};
      try {
        body = JSON.parse(raw);
      } catch {
        return json(res, 400, { message: 'Invalid JSON', statusCode: 400 });
      }
      requests.push({ backend: 'serper', method: 'POST', query: String(body.q ?? ''), count: Number(body.num ?? 10), headers: req.headers });
      if (req.headers['x-api-key'] !== serperKey) return json(res, 403, { message: 'Unauthorized.', statusCode: 403 });
      if (fail(res)) return;
      const num = Number(body.num ?? 10);
      return json(res, 200, {
        searchParameters: { q: body.q, type: 'search', num, engine: 'google' },
        organic: fake.results.slice(0, num).map((r, i) => ({ title: r.title, link: r.url, snippet: r.snippet, position: i + 1 })),
        credits: 1,
      });
    }
    if (req.method === 'GET' && u.pathname === '/searxng/search') {
      const q = u.searchParams.get('q') ?? '';
      requests.push({ backend: 'searxng', method: 'GET', query: q, count: null, headers: req.headers });
      if (u.searchParams.get('format') !== 'json') {
        res.writeHead(403, { 'content-type': 'text/html' });
        return void res.end('<h1>403 Forbidden</h1>');
      }
      if (fail(res)) return;
      return json(res, 200, {
        query: q,
        number_of_results: 0,
        results: fake.results.slice(0, 20).map((r, i) => ({
          url: r.url,
          title: r.title,
          content: r.snippet,
          engine: 'duckduckgo',
          engines: ['duckduckgo', 'brave'],
          parsed_url: ['https', new URL(r.url).host, new URL(r.url).pathname, '', '', ''],
          positions: [i + 1],
          score: 1 / (i + 1),
          category: 'general',
        })),
        answers: [],
        corrections: [],
        infoboxes: [],
        suggestions: [],
        unresponsive_engines: [],
      });
    }
    if (req.method === 'GET' && u.pathname === '/brave/res/v1/web/search') {
      const q = u.searchParams.get('q') ?? '';
      const count = Number(u.searchParams.get('count') ?? 20);
      requests.push({ backend: 'brave', method: 'GET', query: q, count, headers: req.headers });
      if (req.headers['x-subscription-token'] !== braveKey)
        return json(res, 401, { type: 'ErrorResponse', error: { code: 'SUBSCRIPTION_TOKEN_INVALID', status: 401 } });
      if (fail(res)) return;
      return json(res, 200, {
        type: 'search',
        query: { original: q, more_results_available: true },
        mixed: { type: 'mixed', main: [] },
        web: {
          type: 'search',
          results: fake.results.slice(0, Math.min(count, 20)).map((r) => ({
            title: r.title,
            url: r.url,
            description: r.snippet,
            type: 'search_result',
            language: 'en',
            family_friendly: true,
          })),
        },
      });
    }
    json(res, 404, { message: 'Not found' });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  const fake: FakeSearch = {
    url,
    serperUrl: `${url}/serper/search`,
    searxngUrl: `${url}/searxng`,
    braveUrl: `${url}/brave/res/v1/web/search`,
    serperKey,
    braveKey,
    results: options.results ?? DEFAULT_RESULTS,
    requests,
    failNext(n, mode, retryAfterSeconds) {
      failures = failures.concat(Array.from({ length: n }, () => ({ mode, retryAfter: retryAfterSeconds })));
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  return fake;
}
