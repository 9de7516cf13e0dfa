// Builds the web tools from the validated configuration.
import { searchProvider, type Env } from '../config.ts';
import { createSearchProvider, createWebVisitor, type SearchProvider, type WebVisitor } from '../tools/index.ts';

export function buildSearch(env: Env): SearchProvider {
  return createSearchProvider({
    provider: searchProvider(env),
    duckduckgoUrl: env.CIR_DUCKDUCKGO_URL,
    serperApiKey: env.SERPER_API_KEY,
    serperUrl: env.SERPER_API_URL,
    searxngUrl: env.CIR_SEARXNG_URL,
    braveApiKey: env.BRAVE_API_KEY,
    braveUrl: env.BRAVE_API_URL,
    denyDomains: env.CIR_SEARCH_DENY_DOMAINS,
    timeoutMs: env.CIR_SEARCH_TIMEOUT_MS,
  });
}

export function buildVisitor(env: Env): WebVisitor {
  return createWebVisitor({
    allowHosts: env.CIR_FETCH_ALLOW_HOSTS,
    timeoutMs: env.CIR_FETCH_TIMEOUT_MS,
    maxBytes: env.CIR_FETCH_MAX_BYTES,
    maxPdfBytes: env.CIR_FETCH_MAX_PDF_BYTES,
    maxRedirects: env.CIR_FETCH_MAX_REDIRECTS,
  });
}
