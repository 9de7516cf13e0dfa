// The sources ledger: every URL the model saw in search results and every page it read, so that
// the answer's citations can say which sources are real. Keys are normalised so that trivial
// spelling differences (scheme, www., trailing slash, fragment) still match.
import type { SourceStatus } from './events.ts';

export interface LedgerEntry {
  url: string;
  title: string;
  status: Exclude<SourceStatus, 'unseen'>;
}

export function urlKey(raw: string): string {
  try {
    const u = new URL(raw.trim());
    const host = u.hostname.toLowerCase().replace(/^www\./, '');
    const path = u.pathname.replace(/\/+$/, '');
    return `${host}${u.port ? `:${u.port}` : ''}${path}${u.search}`;
  } catch {
    return raw.trim().toLowerCase();
  }
}

export class SourcesLedger {
  #entries = new Map<string, LedgerEntry>();

  seen(url: string, title: string): void {
    const key = urlKey(url);
    const e = this.#entries.get(key);
    if (!e) this.#entries.set(key, { url, title, status: 'seen' });
    else if (!e.title && title) e.title = title;
  }

  read(url: string, title: string): void {
    const key = urlKey(url);
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

  all(): LedgerEntry[] {
    return [...this.#entries.values()];
  }
}
