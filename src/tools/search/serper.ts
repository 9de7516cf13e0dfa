// Serper (Google results): POST {q, num} with X-API-KEY -> { organic: [{title, link, snippet}] }.
import { type Backend, asArray, plain } from './backend.ts';

export function serperBackend(apiKey: string, url = 'https://google.serper.dev/search'): Backend {
  return {
    name: 'serper',
    request: (query, count) => ({
      url,
      method: 'POST',
      headers: { 'x-api-key': apiKey, 'content-type': 'application/json' },
      // Serper accepts num in steps of 10 up to 100
      body: JSON.stringify({ q: query, num: Math.min(100, Math.max(10, Math.ceil(count / 10) * 10)) }),
    }),
    parse(json) {
      const organic = (json as { organic?: unknown })?.organic;
      if (organic !== undefined && !Array.isArray(organic)) throw new Error('unexpected answer shape');
      return asArray(organic).map((r) => ({ url: String(r.link ?? ''), title: plain(r.title), preview: plain(r.snippet) }));
    },
  };
}
