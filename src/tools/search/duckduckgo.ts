// DuckDuckGo's HTML endpoint (html.duckduckgo.com/html/?q=): keyless, the zero-configuration
// default, as smolagents uses by default. No API: the answer is an HTML page whose results are
// `div.result` blocks, each with `a.result__a` (title; href either the target or a
// //duckduckgo.com/l/?uddg=<target> redirect) and `.result__snippet`; ads carry `result--ad`.
// When it limits a client it answers 202 (or 403) with its "anomaly" challenge page instead.
import * as cheerio from 'cheerio';
import { withinCaps } from '../extract/caps.ts';
import { ToolError } from '../types.ts';
import { type Backend, plain } from './backend.ts';

const BETTER = 'for dependable search set CIR_SEARXNG_URL (a self-hosted SearXNG, in deploy/compose.yaml) or SERPER_API_KEY or BRAVE_API_KEY';

/** What DuckDuckGo's limit looks like, in the words a person and the model can act on. */
export function duckduckgoBlocked(how: string): ToolError {
  return new ToolError('rate_limited', `DuckDuckGo is limiting searches from this machine (${how}); wait a minute, or ${BETTER}`);
}

/** The target of a result link: DuckDuckGo wraps most in /l/?uddg=<encoded target>. */
function target(href: string): string {
  try {
    const u = new URL(href, 'https://duckduckgo.com');
    if (u.hostname.endsWith('duckduckgo.com') && u.pathname === '/l/') return u.searchParams.get('uddg') ?? '';
    return u.href;
  } catch {
    return '';
  }
}

export function duckduckgoBackend(baseUrl = 'https://html.duckduckgo.com/html/'): Backend {
  return {
    name: 'duckduckgo',
    format: 'html',
    request(query) {
      // POST is what the page's own form sends; kl=wt-wt: no region.
      const body = new URLSearchParams({ q: query, kl: 'wt-wt' }).toString();
      return {
        url: baseUrl,
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html', 'user-agent': 'Mozilla/5.0 (compatible; cir-bot research assistant)' },
        body,
      };
    },
    statusError(status) {
      return status === 202 || status === 403 || status === 429 ? duckduckgoBlocked(`HTTP ${status}`) : null;
    },
    parse(body) {
      const html = String(body);
      // The same depth and element caps as page extraction: no page parses quadratically here.
      if (!withinCaps(html, { maxDepth: 256, maxElements: 20_000 })) throw new Error('not a DuckDuckGo results page (too deep or too large)');
      const $ = cheerio.load(html);
      if ($('.anomaly-modal, #challenge-form').length) throw duckduckgoBlocked('its challenge page');
      const results = $('div.result')
        .not('.result--ad')
        .toArray()
        .map((el) => {
          const a = $(el).find('a.result__a').first();
          return { url: target(a.attr('href') ?? ''), title: plain(a.text()), preview: plain($(el).find('.result__snippet').first().text()) };
        })
        .filter((r) => r.url);
      if (!results.length && !$('.no-results').length && !$('#links').length) throw new Error('not a DuckDuckGo results page');
      return results;
    },
  };
}
