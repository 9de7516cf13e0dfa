// The sources ledger: every URL the model saw in search results and every page it read, so that
// the answer's citations can say which sources are real. Keys are normalised so that trivial
// spelling differences (scheme, www., trailing slash, fragment, tracking parameters) still match.
import type { SourceStatus } from './events.ts';

export interface LedgerEntry {
  url: string;
  title: string;
  status: Exclude<SourceStatus, 'unseen'>;
}

/** Query parameters that only track the click: they never change which page it is. */
const TRACKING = /^(?:utm_\w+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|igshid|yclid|_ga|_gl)$/i;

export function urlKey(raw: string): string {
  try {
    const u = new URL(raw.trim());
    const host = u.hostname.toLowerCase().replace(/^www\./, '');
    const path = u.pathname.replace(/\/+$/, '');
    // Re-serialised in every case, so that the key's query spelling does not depend on the removal.
    const query = new URLSearchParams(u.search);
    for (const name of [...query.keys()]) if (TRACKING.test(name)) query.delete(name);
    const search = query.size ? `?${query.toString()}` : '';
    return `${host}${u.port ? `:${u.port}` : ''}${path}${search}`;
  } catch {
    return raw.trim().toLowerCase();
  }
}

/** Evidence kept per session for quote-backed citations: bounded, as pages are hostile. */
const MAX_PAGE_CHARS = 300_000;
const MAX_TOTAL_CHARS = 4_000_000;
const MAX_SNIPPETS = 5;

export class SourcesLedger {
  #entries = new Map<string, LedgerEntry>();
  /** Full extracted text of each page read; search snippets of sources only seen. */
  #pages = new Map<string, string>();
  #snippets = new Map<string, string[]>();
  #kept = 0;

  seen(url: string, title: string, snippet = ''): void {
    const key = urlKey(url);
    if (snippet) {
      const list = this.#snippets.get(key) ?? [];
      if (list.length < MAX_SNIPPETS && !list.includes(snippet)) list.push(snippet.slice(0, 2_000));
      this.#snippets.set(key, list);
    }
    const e = this.#entries.get(key);
    if (!e) this.#entries.set(key, { url, title, status: 'seen' });
    else if (!e.title && title) e.title = title;
  }

  read(url: string, title: string, text = ''): void {
    const key = urlKey(url);
    if (text && !this.#pages.has(key) && this.#kept < MAX_TOTAL_CHARS) {
      const kept = text.slice(0, Math.min(MAX_PAGE_CHARS, MAX_TOTAL_CHARS - this.#kept));
      this.#pages.set(key, kept);
      this.#kept += kept.length;
    }
    const e = this.#entries.get(key);
    if (!e) this.#entries.set(key, { url, title, status: 'read' });
    else {
      // The page's own title beats the search result's.
      e.status = 'read';
      if (title) e.title = title;
    }
  }

  get(url: string): LedgerEntry | undefined {
    return this.#entries.get(urlKey(url));
  }

  /** What a claim citing this URL may be checked against: the page if it was read, else its snippets. */
  evidence(url: string): string[] {
    const key = urlKey(url);
    const e = this.#entries.get(key);
    if (!e) return [];
    if (e.status === 'read') {
      const page = this.#pages.get(key);
      return page ? [page] : [];
    }
    return this.#snippets.get(key) ?? [];
  }

  all(): LedgerEntry[] {
    return [...this.#entries.values()];
  }
}
