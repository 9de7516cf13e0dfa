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
