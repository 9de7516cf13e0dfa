// A local fake of DuckDuckGo's keyless HTML endpoint (POST /html/ with q=, as its own form sends).
// DuckDuckGo documents no API for it; the shapes follow the live page as the keyless clients
// (smolagents' DuckDuckGoSearchTool, the duckduckgo_search library) read it: `div.result` blocks
// with `a.result__a` (href a //duckduckgo.com/l/?uddg=<target> redirect) and `a.result__snippet`,
// ads marked `result--ad`, `div.no-results` for nothing found, and, when it limits a client, HTTP
// 202 with its "anomaly" challenge page (403 seen too).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type DuckMode = 'ok' | 'anomaly' | 'forbidden' | 'empty';

export interface FakeDuck {
  /** The endpoint, for CIR_DUCKDUCKGO_URL. */
  url: string;
  mode: DuckMode;
  /** Each request's form fields. */
  queries: URLSearchParams[];
  close(): Promise<void>;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function resultBlock(url: string, title: string, snippet: string, ad = false): string {
  const href = ad ? `https://duckduckgo.com/y.js?ad_domain=shop.example&u3=${encodeURIComponent(url)}` : `//duckduckgo.com/l/?uddg=${encodeURIComponent(url)}&amp;rut=ffee00`;
  return `<div class="result results_links results_links_deep web-result${ad ? ' result--ad' : ''}">
  <div class="links_main links_deep result__body">
    <h2 class="result__title"><a rel="nofollow" class="result__a" href="${href}">${esc(title)}</a></h2>
    <div class="result__extras"><div class="result__extras__url"><a class="result__url" href="${href}">${esc(new URL(url).host)}</a></div></div>
    <a class="result__snippet" href="${href}">${snippet}</a>
    <div class="clear"></div>
  </div>
</div>`;
}

export function resultsPage(query: string): string {
  const blocks = [
    resultBlock('https://shop.example/buy', 'Buy things now', 'An <b>advert</b>.', true),
    resultBlock('https://en.wikipedia.org/wiki/Bristlecone_pine', 'Bristlecone pine - Wikipedia', `The <b>${esc(query)}</b>: Great Basin bristlecone pines live for more than 4,800 years.`),
    resultBlock('https://www.nps.gov/grba/learn/nature/bristlecones.htm', 'Bristlecone Pines - Great Basin National Park', 'Some of the oldest trees on Earth &amp; how they survive.'),
  ];
  return `<!DOCTYPE html><html><head><title>${esc(query)} at DuckDuckGo</title></head><body class="body--html">
<div id="links" class="results">${blocks.join('\n')}</div></body></html>`;
}

const ANOMALY = `<!DOCTYPE html><html><body><div class="anomaly-modal__mask"><div class="anomaly-modal">
<div class="anomaly-modal__title">Unfortunately, bots use DuckDuckGo too.</div>
<div class="anomaly-modal__description">Please complete the following challenge to confirm this search was made by a human.</div>
<form id="challenge-form" action="//duckduckgo.com/anomaly.js" method="POST"></form></div></div></body></html>`;

const EMPTY = `<!DOCTYPE html><html><body><div id="links" class="results"><div class="no-results">No results.</div></div></body></html>`;

export async function startFakeDuck(mode: DuckMode = 'ok'): Promise<FakeDuck> {
  const queries: URLSearchParams[] = [];
  const fake = { mode } as FakeDuck;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/html/') return void res.writeHead(404).end();
      const form = new URLSearchParams(body);
      queries.push(form);
      const send = (status: number, html: string) => {
        res.writeHead(status, { 'content-type': 'text/html; charset=UTF-8' });
        res.end(html);
      };
      if (fake.mode === 'anomaly') return send(202, ANOMALY);
      if (fake.mode === 'forbidden') return send(403, ANOMALY);
      if (fake.mode === 'empty') return send(200, EMPTY);
      send(200, resultsPage(form.get('q') ?? ''));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/html/`;
  fake.queries = queries;
  fake.close = () => new Promise<void>((r) => server.close(() => r()));
  return fake;
}
