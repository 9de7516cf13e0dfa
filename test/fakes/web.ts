// A small fake web on 127.0.0.1 for web_visit tests and end-to-end runs.
//
// Exports:
//   startFakeWeb(): Promise<FakeWeb>   starts the server on a random port.
//   FakeWeb.url          base URL, e.g. http://127.0.0.1:PORT (no trailing slash)
//   FakeWeb.allowHost    "127.0.0.1:PORT", the CIR_FETCH_ALLOW_HOSTS entry that lets the visitor reach it
//   FakeWeb.hits         Map path -> number of requests (cache tests)
//   FakeWeb.close()      stops the server and drops open connections
//   minimalPdf(text)     bytes of a small valid one-page PDF showing `text`
//   ARTICLES             the article pages served (path, title, a sentence found only in the body)
//
// Routes:
//   /articles/volcano, /articles/bread, /articles/rivers   real-looking articles: nav, cookie banner,
//       share bar, sidebar, footer, scripts around a main text (with a heading, list and table)
//   /redirect?to=URL[&status=302]   redirect to any URL (e.g. into private ranges)
//   /chain/N                        N redirects, then an article
//   /slow                           headers, then one byte every 500 ms forever
//   /endless                        HTML streamed as fast as possible, without end
//   /hang                           accepts, never answers
//   /gzip-bomb                      ~100 KB of gzip inflating to 64 MB
//   /brotli, /deflate               an article with that content-encoding
//   /windows-1252                   cp1252 bytes, charset only in the Content-Type header
//   /no-charset-1252                cp1252 bytes, no declaration anywhere
//   /shift-jis                      Shift_JIS bytes, declared only in <meta charset>
//   /mislabelled                    header says iso-8859-1, body has a UTF-8 BOM (BOM wins)
//   /doc.pdf                        a small PDF; /doc-octet  the same PDF as application/octet-stream
//   /blob                           binary bytes as application/octet-stream (sniffed, refused)
//   /missing                        404
//   /error                          500
//   /huge                           a 20 MB HTML page
//   /video.mp4                      video/mp4 declaring 2 GB, body streamed slowly
//   /plain.txt                      text/plain
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';

export interface FakeWeb {
  url: string;
  allowHost: string;
  hits: Map<string, number>;
  close(): Promise<void>;
}

export const ARTICLES = [
  {
    path: '/articles/volcano',
    title: 'How Volcanoes Shape Islands',
    marker: 'basaltic lava from the Kilauea caldera cooled into new coastline',
  },
  {
    path: '/articles/bread',
    title: 'The Slow Science of Sourdough',
    marker: 'wild yeast and lactobacilli ferment the dough over eighteen hours',
  },
  {
    path: '/articles/rivers',
    title: 'Why Rivers Meander',
    marker: 'erosion on the outer bank and deposition on the inner bank',
  },
] as const;

const FILLER = [
  'Researchers have studied the question for decades, combining field measurements with laboratory models, and the picture that emerges is more subtle than the textbooks suggest.',
  'The process depends on temperature, pressure and time, and small differences in any of them change the result in ways that are easy to see once you know where to look.',
  'Local observers, many of them amateurs, have kept careful notes for generations, and their records now help scientists test ideas that once seemed impossible to check.',
  'None of this happens quickly: the changes accumulate over seasons and years, which is why long-running studies matter more than any single dramatic observation.',
];

export function articleHtml(title: string, marker: string): string {
  const paras = FILLER.map((f, i) => `<p>${i === 1 ? `In the best-known case, ${marker}. ` : ''}${f}</p>`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title} | Example Science News</title>
<meta property="og:title" content="${title}">
<script>window.dataLayer = [{ page: "article" }]; function track() { return "tracking code"; }</script>
<style>.nav { color: red } body { font-family: sans-serif }</style></head>
<body>
<div id="cookie-banner" class="cookie-consent">We use cookies to improve your experience. <button>Accept all cookies</button></div>
<header class="site-header"><a href="/">Example Science News</a>
<nav class="main-menu"><ul><li><a href="/world">World</a></li><li><a href="/science">Science</a></li><li><a href="/sport">Sport</a></li></ul></nav></header>
<main><article class="post">
<h1>${title}</h1>
<div class="byline">By A. Writer</div>
<div class="share-bar"><a href="#">Share on Facebook</a> <a href="#">Share on Twitter</a></div>
<div class="article-body">
${paras}
<h2>Key facts</h2>
<ul><li>First observed in 1843, according to parish records kept at the time.</li><li>Measured again in 1962 with modern instruments.</li></ul>
<table><thead><tr><th>Year</th><th>Value</th></tr></thead><tbody><tr><td>1843</td><td>12.5</td></tr><tr><td>1962</td><td>14.1</td></tr></tbody></table>
<p>See the <a href="/more">follow-up study</a> for more details on the measurements.</p>
</div></article>
<aside class="sidebar"><h3>Most read</h3><ul><li><a href="/a">Celebrity gossip headline</a></li><li><a href="/b">Another popular story</a></li></ul></aside>
</main>
<footer class="site-footer"><p>Copyright 2024 Example Science News. All rights reserved.</p><a href="/privacy">Privacy policy</a></footer>
<script>track();</script>
</body></html>`;
}

/** A minimal, valid one-page PDF showing `text` (Helvetica), with a correct xref table. */
export function minimalPdf(text: string): Buffer {
  const esc = text.replace(/[\\()]/g, (c) => `\\${c}`);
  const stream = `BT /F1 18 Tf 72 720 Td (${esc}) Tj ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
    '<< /Title (Fake Report) >>',
  ];
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const o of offsets) out += `${String(o).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R /Info 6 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

// Windows-1252: “Café” déjà vu — 0x93 0x94 are curly quotes, 0xE9 é, 0xE0 à
const CP1252_BODY = Buffer.concat([
  Buffer.from('<html><head><title>Menu</title></head><body><p>', 'latin1'),
  Buffer.from([0x93]),
  Buffer.from('Caf', 'latin1'),
  Buffer.from([0xe9, 0x94]),
  Buffer.from(' d', 'latin1'),
  Buffer.from([0xe9]),
  Buffer.from('j', 'latin1'),
  Buffer.from([0xe0]),
  Buffer.from(' vu, a long enough paragraph of text to count as the content of this small page.</p></body></html>', 'latin1'),
]);
// Shift_JIS for 日本語 and こんにちは
const SJIS_BODY = Buffer.concat([
  Buffer.from('<html><head><meta charset="shift_jis"><title>JP</title></head><body><p>', 'latin1'),
  Buffer.from([0x93, 0xfa, 0x96, 0x7b, 0x8c, 0xea]),
  Buffer.from(' ', 'latin1'),
  Buffer.from([0x82, 0xb1, 0x82, 0xf1, 0x82, 0xc9, 0x82, 0xbf, 0x82, 0xcd]),
  Buffer.from('</p></body></html>', 'latin1'),
]);

let bomb: Buffer | undefined;
function gzipBomb(): Buffer {
  bomb ??= gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20), { level: 9 });
  return bomb;
}

export async function startFakeWeb(): Promise<FakeWeb> {
  const hits = new Map<string, number>();
  const timers = new Set<NodeJS.Timeout>();
  const server = createServer((req, res) => handle(req, res));
  let base = '';

  const send = (res: ServerResponse, status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': type, 'content-length': String(Buffer.byteLength(body)), ...extra });
    res.end(body);
  };

  const drip = (res: ServerResponse, chunk: string | Buffer, everyMs: number) => {
    const t = setInterval(() => {
      if (res.destroyed) {
        clearInterval(t);
        timers.delete(t);
        return;
      }
      res.write(chunk);
    }, everyMs);
    timers.add(t);
    res.on('close', () => {
      clearInterval(t);
      timers.delete(t);
    });
  };

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const u = new URL(req.url ?? '/', base);
    const path = u.pathname;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const article = ARTICLES.find((a) => a.path === path);
    if (article) return send(res, 200, 'text/html; charset=utf-8', articleHtml(article.title, article.marker));
    const chain = /^\/chain\/(\d+)$/.exec(path);
    if (chain) {
      const n = Number(chain[1]);
      res.writeHead(302, { location: n > 1 ? `/chain/${n - 1}` : ARTICLES[0].path });
      return void res.end();
    }
    switch (path) {
      case '/redirect':
        res.writeHead(Number(u.searchParams.get('status') ?? 302), { location: u.searchParams.get('to') ?? '/' });
        return void res.end();
      case '/slow':
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.write('<html><body><p>');
        return drip(res, 'a', 500);
      case '/endless': {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        const chunk = `<p>${'endless text '.repeat(500)}</p>\n`;
        const pump = () => {
          while (!res.destroyed && res.write(chunk)) {
            /* keep writing until the socket pushes back */
          }
          if (!res.destroyed) res.once('drain', pump);
        };
        return pump();
      }
      case '/hang':
        return; // never answer; close() drops the connection
      case '/gzip-bomb':
        return send(res, 200, 'text/html; charset=utf-8', gzipBomb(), { 'content-encoding': 'gzip' });
      case '/brotli':
        return send(res, 200, 'text/html; charset=utf-8', brotliCompressSync(articleHtml(ARTICLES[1].title, ARTICLES[1].marker)), {
          'content-encoding': 'br',
        });
      case '/deflate':
        return send(res, 200, 'text/html; charset=utf-8', deflateSync(articleHtml(ARTICLES[2].title, ARTICLES[2].marker)), {
          'content-encoding': 'deflate',
        });
      case '/windows-1252':
        return send(res, 200, 'text/html; charset=windows-1252', CP1252_BODY);
      case '/no-charset-1252':
        return send(res, 200, 'text/html', CP1252_BODY);
      case '/shift-jis':
        return send(res, 200, 'text/html', SJIS_BODY);
      case '/mislabelled':
        return send(
          res,
          200,
          'text/html; charset=iso-8859-1',
          Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('<html><body><p>naïve café ünïcödé text</p></body></html>')]),
        );
      case '/doc.pdf':
        return send(res, 200, 'application/pdf', minimalPdf('Quarterly results improved by 42 percent'));
      case '/doc-octet':
        return send(res, 200, 'application/octet-stream', minimalPdf('Quarterly results improved by 42 percent'));
      case '/blob': {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        return drip(res, Buffer.from([0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0, 0x14, 0, 0, 0].concat(Array(1012).fill(0))), 20);
      }
      case '/missing':
        return send(res, 404, 'text/html', '<h1>Not Found</h1>');
      case '/error':
        return send(res, 500, 'text/html', '<h1>Server Error</h1>');
      case '/plain.txt':
        return send(res, 200, 'text/plain; charset=utf-8', 'Plain   text\r\n\r\n\r\nwith lines.\n');
      case '/huge': {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        const para = `<p>${'huge page words '.repeat(60)}</p>\n`;
        let sent = 0;
        const total = 20 * 1024 * 1024;
        const pump = () => {
          while (!res.destroyed && sent < total) {
            sent += para.length;
            if (!res.write(para)) return void res.once('drain', pump);
          }
          if (!res.destroyed) res.end('</body></html>');
        };
        res.write('<html><head><title>Huge</title></head><body>');
        return pump();
      }
      case '/video.mp4':
        res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': String(2 * 1024 * 1024 * 1024) });
        return drip(res, Buffer.alloc(1024), 200);
      default:
        return send(res, 404, 'text/plain', 'no such page');
    }
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  base = `http://127.0.0.1:${port}`;
  return {
    url: base,
    allowHost: `127.0.0.1:${port}`,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearInterval(t);
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
