// Brave Search API: GET ?q=&count= with X-Subscription-Token -> { web: { results: [{url, title, description}] } }.
import { type Backend, asArray, plain } from './backend.ts';

export function braveBackend(apiKey: string, url = 'https://api.search.brave.com/res/v1/web/search'): Backend {
  return {
    name: 'brave',
    request(query, count) {
      const u = new URL(url);
      u.searchParams.set('q', query);
      u.searchParams.set('count', String(Math.min(20, Math.max(1, count)))); // Brave caps count at 20
      return { url: u.href, method: 'GET', headers: { 'x-subscription-token': apiKey, accept: 'application/json' } };
    },
    parse(json) {
      const web = (json as { web?: { results?: unknown } })?.web;
      if (web !== undefined && (typeof web !== 'object' || web === null)) throw new Error('unexpected answer shape');
      return asArray(web?.results).map((r) => ({ url: String(r.url ?? ''), title: plain(r.title), preview: plain(r.description) }));
    },
  };
}
