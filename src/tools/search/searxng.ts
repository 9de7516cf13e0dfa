// SearXNG (self-hosted): GET /search?q=&format=json -> { results: [{url, title, content}] }.
// It has no count parameter (about 20 a page): the caller slices.
import { type Backend, asArray, plain } from './backend.ts';

export function searxngBackend(baseUrl: string): Backend {
  return {
    name: 'searxng',
    request(query) {
      const u = new URL('search', baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
      u.searchParams.set('q', query);
      u.searchParams.set('format', 'json');
      return { url: u.href, method: 'GET', headers: { accept: 'application/json' } };
    },
    parse(json) {
      const results = (json as { results?: unknown })?.results;
      if (!Array.isArray(results)) throw new Error('unexpected answer shape (is format json enabled in settings.yml?)');
      return asArray(results).map((r) => ({ url: String(r.url ?? ''), title: plain(r.title), preview: plain(r.content) }));
    },
  };
}
