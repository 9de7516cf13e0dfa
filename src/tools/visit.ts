// web_visit: guarded fetch -> decode -> readable text (HTML), plain text, or PDF text; with a small
// per-visitor LRU cache so one session visiting a URL twice pays once.
import { extractReadable } from './extract/index.ts';
import { pdfToText } from './pdf.ts';
import { decodeBody } from './fetch/decode.ts';
import { type Fetched, HttpFetcher, parseHttpUrl } from './fetch/http.ts';
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

  async function load(url: string, signal?: AbortSignal): Promise<VisitedPage> {
    const fetched = await fetcher.fetch(url, signal);
    try {
      return await toPage(url, fetched, options.maxPdfPages ?? 100);
    } catch (err) {
      if (err instanceof ToolError) throw err;
      throw new ToolError('extract', 'the page was fetched but its content could not be read');
    }
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
    close: () => fetcher.close(),
  };
}

async function toPage(url: string, f: Fetched, maxPdfPages: number): Promise<VisitedPage> {
  const base = { url, finalUrl: f.finalUrl, contentType: f.contentType };
  const note = f.truncated ? `\n\n[page truncated after ${Math.round(f.bytes.length / 1024)} KB]` : '';
  if (f.kind === 'pdf') {
    if (f.truncated) throw new ToolError('too_large', `the PDF is larger than ${Math.round(f.bytes.length / 1024 / 1024)} MB`);
    const pdf = await pdfToText(f.bytes, maxPdfPages);
    const text = normalisePlain(pdf.text);
    const more = pdf.read < pdf.pages ? `\n\n[first ${pdf.read} of ${pdf.pages} pages]` : '';
    return { ...base, title: pdf.title || fileName(f.finalUrl), text: (text || '(the PDF has no extractable text)') + more };
  }
  const body = decodeBody(f.bytes, f.contentType);
  if (f.kind === 'text' && !(/xml/i.test(f.contentType) && /<html[\s>]/i.test(body.slice(0, 2048)))) {
    return { ...base, title: fileName(f.finalUrl), text: normalisePlain(body) + note };
  }
  const { title, text } = extractReadable(body, f.finalUrl);
  return { ...base, title, text: (text || '(the page has no readable text)') + note };
}

function normalisePlain(s: string): string {
  return s
    .replace(/\r\n?/g, '\n')
    .replace(/[ \t\u00a0]+/g, ' ')
    .replace(/ *\n */g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

function fileName(url: string): string {
  try {
    const u = new URL(url);
    const last = decodeURIComponent(u.pathname.split('/').filter(Boolean).pop() ?? '');
    return last || u.hostname;
  } catch {
    return url;
  }
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
