// web_visit: guarded fetch -> decode -> readable text (HTML), plain text, or PDF text; with a small
// per-visitor LRU cache so one session visiting a URL twice pays once.
import { HttpFetcher, parseHttpUrl } from './fetch/http.ts';
import { createParsePool, type ParsePool } from './parse-pool/index.ts';
import { ToolError, type VisitedPage } from './types.ts';

export interface WebVisitor {
  /** Throws ToolError with a short message for refusals, timeouts, HTTP errors and binary types. */
  visit(url: string, signal?: AbortSignal): Promise<VisitedPage>;
  /** Closes pooled connections (tests, shutdown). */
  close(): Promise<void>;
}

export interface WebVisitorOptions {
  /** "host:port" pairs exempt from the private-address guard. */
  allowHosts?: readonly string[];
  timeoutMs?: number;
  maxBytes?: number;
  /** Byte cap for PDFs (papers and reports are often larger than HTML pages). */
  maxPdfBytes?: number;
  maxPdfPages?: number;
  maxRedirects?: number;
  cacheSize?: number;
  cacheTtlMs?: number;
  userAgent?: string;
  /** Where pages are parsed (default: a pool of its own, closed with the visitor). */
  parsePool?: ParsePool;
  /** Deadline of one parse job in the default pool. */
  parseTimeoutMs?: number;
}

export function createWebVisitor(options: WebVisitorOptions = {}): WebVisitor {
  const fetcher = new HttpFetcher({
    allowHosts: options.allowHosts ?? [],
    timeoutMs: options.timeoutMs ?? 20000,
    maxBytes: options.maxBytes ?? 5 * 1024 * 1024,
    maxPdfBytes: options.maxPdfBytes ?? Math.max(options.maxBytes ?? 0, 25 * 1024 * 1024),
    maxRedirects: options.maxRedirects ?? 5,
    userAgent: options.userAgent,
  });
  const cacheSize = options.cacheSize ?? 32;
  const ttl = options.cacheTtlMs ?? 10 * 60 * 1000;
  const cache = new Map<string, { at: number; page: Promise<VisitedPage> }>();
  const pool = options.parsePool ?? createParsePool({ timeoutMs: options.parseTimeoutMs });

  async function load(url: string, signal?: AbortSignal): Promise<VisitedPage> {
    const fetched = await fetcher.fetch(url, signal);
    if (fetched.kind === 'pdf' && fetched.truncated)
      throw new ToolError('too_large', `the PDF is larger than ${Math.round(fetched.bytes.length / 1024 / 1024)} MB`);
    return pool.read(url, fetched, { maxPdfPages: options.maxPdfPages ?? 100 }, signal);
  }

  return {
    visit(url: string, signal?: AbortSignal): Promise<VisitedPage> {
      let key: string;
      try {
        key = parseHttpUrl(url).href;
      } catch (err) {
        return Promise.reject(err);
      }
      const hit = cache.get(key);
      if (hit && Date.now() - hit.at < ttl) {
        cache.delete(key); // refresh LRU position
        cache.set(key, hit);
        return hit.page.then((p) => ({ ...p, url }));
      }
      const page = load(key, signal).then((p) => ({ ...p, url }));
      cache.set(key, { at: Date.now(), page });
      // failures are not cached: a retry may succeed
      page.catch(() => {
        if (cache.get(key)?.page === page) cache.delete(key);
      });
      while (cache.size > cacheSize) cache.delete(cache.keys().next().value as string);
      return page;
    },
    async close() {
      await fetcher.close();
      if (!options.parsePool) await pool.close();
    },
  };
}

/** What web_visit hands the model for a page: title, where it landed, then the text. */
export function formatVisitedPage(page: VisitedPage): string {
  const head = page.title ? `Title: ${page.title}\nURL: ${page.finalUrl}` : `URL: ${page.finalUrl}`;
  return `${head}\n\n${page.text}`;
}

/** What web_visit hands the model when a visit fails. */
export function formatVisitError(url: string, err: unknown): string {
  const msg = err instanceof ToolError ? err.message : 'unexpected error while visiting the page';
  return `Failed to visit ${url}: ${msg}`;
}
