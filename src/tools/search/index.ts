// web_search: one client for every backend: timeouts, bounded retries (honouring Retry-After up to
// a cap), domain deny-list, count handling, and short errors the model can act on.
import { setTimeout as wait } from 'node:timers/promises';
import { ToolError, type SearchProvider, type SearchResult } from '../types.ts';
import type { Backend, BackendRequest } from './backend.ts';
import { braveBackend } from './brave.ts';
import { duckduckgoBackend } from './duckduckgo.ts';
import { searxngBackend } from './searxng.ts';
import { serperBackend } from './serper.ts';

export type { Backend, BackendRequest };

export interface SearchOptions {
  provider: 'serper' | 'searxng' | 'brave' | 'duckduckgo';
  duckduckgoUrl?: string;
  serperApiKey?: string;
  serperUrl?: string;
  searxngUrl?: string;
  braveApiKey?: string;
  braveUrl?: string;
  /** Results from these domains (and their subdomains) are dropped. Default: huggingface.co. */
  denyDomains?: readonly string[];
  /** Per attempt. */
  timeoutMs?: number;
  maxRetries?: number;
  /** Longest Retry-After we are willing to wait; longer ones fail at once. */
  maxRetryAfterMs?: number;
  /** Base of the exponential backoff between retries. */
  backoffMs?: number;
}

export const MAX_RESULTS = 50;
/** An HTML results page is ~30 KB; more is not a results page. */
const MAX_PAGE_BYTES = 2 * 1024 * 1024;

/** The body as text, refusing more than `max` bytes (a search backend is a remote party too). */
async function cappedText(res: Response, max: number): Promise<string> {
  const chunks: Uint8Array[] = [];
  let n = 0;
  for await (const chunk of res.body ?? []) {
    n += chunk.byteLength;
    if (n > max) throw new ToolError('bad_answer', 'the search service sent a page too large to be results');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function backendFor(o: SearchOptions): Backend {
  switch (o.provider) {
    case 'serper':
      if (!o.serperApiKey) throw new ToolError('config', 'SERPER_API_KEY is not set');
      return serperBackend(o.serperApiKey, o.serperUrl);
    case 'brave':
      if (!o.braveApiKey) throw new ToolError('config', 'BRAVE_API_KEY is not set');
      return braveBackend(o.braveApiKey, o.braveUrl);
    case 'searxng':
      return searxngBackend(o.searxngUrl ?? 'http://127.0.0.1:8888');
    case 'duckduckgo':
      return duckduckgoBackend(o.duckduckgoUrl);
  }
}

export function createSearchProvider(options: SearchOptions, backend: Backend = backendFor(options)): SearchProvider {
  const deny = (options.denyDomains ?? ['huggingface.co']).map((d) => d.toLowerCase().replace(/^\*?\./, '')).filter(Boolean);
  const timeoutMs = options.timeoutMs ?? 15000;
  const maxRetries = options.maxRetries ?? 2;
  const maxRetryAfterMs = options.maxRetryAfterMs ?? 5000;
  const backoffMs = options.backoffMs ?? 500;

  async function once(req: BackendRequest, signal?: AbortSignal): Promise<{ retryIn?: number; error?: ToolError; results?: SearchResult[] }> {
    const timeout = AbortSignal.timeout(timeoutMs);
    const all = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let res: Response;
    let json: unknown;
    try {
      res = await fetch(req.url, { method: req.method, headers: req.headers, body: req.body, signal: all });
      if (res.status !== 200) {
        await res.body?.cancel().catch(() => {});
        const own = backend.statusError?.(res.status);
        return own ? { error: own } : statusError(res);
      }
      json = backend.format === 'html' ? await cappedText(res, MAX_PAGE_BYTES) : await res.json();
    } catch (err) {
      if (signal?.aborted) return { error: new ToolError('cancelled', 'search cancelled') };
      if (err instanceof ToolError) return { error: err };
      if (timeout.aborted)
        return { error: new ToolError('timeout', `the search service did not answer within ${Math.round(timeoutMs / 1000)} s; try again`) };
      if (err instanceof SyntaxError) return { error: new ToolError('bad_answer', 'the search service sent an unreadable answer') };
      return { retryIn: 0, error: new ToolError('network', 'could not reach the search service') };
    }
    try {
      return { results: backend.parse(json) };
    } catch (err) {
      if (err instanceof ToolError) return { error: err };
      return { error: new ToolError('bad_answer', 'the search service sent an answer in an unexpected shape') };
    }
  }

  function statusError(res: Response): { retryIn?: number; error: ToolError } {
    const s = res.status;
    if (s === 429) {
      const wait = retryAfterMs(res.headers.get('retry-after'));
      const error = new ToolError('rate_limited', 'the search service is rate-limiting requests (HTTP 429); wait before searching again');
      return wait === undefined || wait <= maxRetryAfterMs ? { retryIn: wait ?? 0, error } : { error };
    }
    if (s === 401 || s === 403) return { error: new ToolError('auth', `the search service refused the credentials (HTTP ${s})`) };
    if (s >= 500) return { retryIn: 0, error: new ToolError('unavailable', `the search service failed (HTTP ${s}); try again later`) };
    return { error: new ToolError('http', `the search service rejected the request (HTTP ${s})`) };
  }

  return {
    name: backend.name,
    async search(query: string, count: number, signal?: AbortSignal): Promise<SearchResult[]> {
      const q = String(query ?? '').trim();
      if (!q) throw new ToolError('bad_query', 'the search query is empty');
      const n = Number.isFinite(count) ? Math.min(MAX_RESULTS, Math.max(1, Math.floor(count))) : 10;
      // Ask for a few spare results to make up for denied ones, without crossing a page of 10
      // (Serper bills larger pages double).
      const req = backend.request(q, deny.length ? Math.min(n + 5, Math.max(n, 10)) : n);
      let last: ToolError | undefined;
      for (let attempt = 0; attempt <= maxRetries; attempt++) {
        const r = await once(req, signal);
        if (r.results) return clean(r.results, deny).slice(0, n);
        last = r.error;
        if (r.retryIn === undefined || attempt === maxRetries) break;
        await sleep(Math.max(r.retryIn, backoffMs * 2 ** attempt), signal);
      }
      throw last ?? new ToolError('unavailable', 'the search service failed');
    },
  };
}

/** Drops denied domains, non-http URLs and duplicates. */
function clean(results: SearchResult[], deny: string[]): SearchResult[] {
  const seen = new Set<string>();
  return results.filter((r) => {
    let host: string;
    try {
      const u = new URL(r.url);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') return false;
      host = u.hostname.toLowerCase().replace(/\.$/, '');
    } catch {
      return false;
    }
    if (deny.some((d) => host === d || host.endsWith(`.${d}`))) return false;
    if (seen.has(r.url)) return false;
    seen.add(r.url);
    return true;
  });
}

function retryAfterMs(v: string | null): number | undefined {
  if (!v) return undefined;
  if (/^\d+(\.\d+)?$/.test(v.trim())) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return wait(ms, undefined, { signal }).catch((err: unknown) => {
    throw signal?.aborted ? new ToolError('cancelled', 'search cancelled') : err;
  });
}

/** The text form the model was trained on; an empty list says so. */
export function formatSearchResults(results: SearchResult[], query: string): string {
  if (results.length === 0) return `No results found for '${query}'. Try a different or broader query.`;
  // 0-based, as in the reference harness and the SFT tools; blocks separated by a blank line.
  return results.map((r, i) => `Index: ${i}\nURL: ${r.url}\nTitle: ${r.title}\nPreview: ${r.preview}\n`).join('\n');
}
