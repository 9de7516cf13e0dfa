// A fake web of hostile pages on 127.0.0.1: pages that are cheap to send and expensive to read.
// Served as an ordinary HTTP/1.1 origin (node:http); content codings as RFC 9110 §8.4 defines
// them (br: RFC 7932, zstd: RFC 8878 / RFC 9659).
//
// Routes:
//   /nested            <html><body> + <b> x 500000 + x  (1.5 MB, the page of issue 13)
//   /brotli-bomb       ~100 bytes of brotli inflating to 24 MB of HTML
//   /zstd-bomb         ~2 KB of zstd inflating to 24 MB of HTML (default 2 MB window)
//   /zstd-wide-window  a zstd frame that asks the decoder for a 24 MB window (RFC 9659 allows 8 MB)
//   /pdf-text-bomb     ~10 KB PDF whose Flate content stream inflates to 80000 text blocks
//   /pdf-inflate-bomb  ~70 KB PDF whose content stream inflates to 22 MB
//   /report.pdf        an ordinary two-page PDF
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import { buildPdf } from './pdf-bomb.ts';

export interface HostileWeb {
  url: string;
  allowHost: string;
  close(): Promise<void>;
}

export const NESTED_PAGE = '<html><body>' + '<b>'.repeat(500_000) + 'x';
const BOMB_HTML = Buffer.concat([Buffer.from('<html><body><p>'), Buffer.alloc(24 * 1024 * 1024, 'a')]);
/** One BT/ET block per word, each laid out separately by pdf.js. */
export const textBlocks = (n: number): string => 'BT /F1 12 Tf 72 720 Td (AAAAAAAA) Tj ET '.repeat(n);

export async function startHostileWeb(): Promise<HostileWeb> {
  const zc = zlib.constants as unknown as Record<string, number>;
  const bodies: Record<string, () => { type: string; body: Buffer; encoding?: string }> = {
    '/nested': () => ({ type: 'text/html; charset=utf-8', body: Buffer.from(NESTED_PAGE) }),
    '/brotli-bomb': () => ({ type: 'text/html; charset=utf-8', body: zlib.brotliCompressSync(BOMB_HTML), encoding: 'br' }),
    '/zstd-bomb': () => ({ type: 'text/html; charset=utf-8', body: zlib.zstdCompressSync(BOMB_HTML), encoding: 'zstd' }),
    '/zstd-wide-window': () => ({
      type: 'text/html; charset=utf-8',
      body: zlib.zstdCompressSync(BOMB_HTML, { params: { [zc.ZSTD_c_windowLog]: 27 } }),
      encoding: 'zstd',
    }),
    '/pdf-text-bomb': () => ({ type: 'application/pdf', body: buildPdf([textBlocks(80_000)]) }),
    '/pdf-inflate-bomb': () => ({ type: 'application/pdf', body: buildPdf([textBlocks(600_000)]) }),
    '/report.pdf': () => ({
      type: 'application/pdf',
      body: buildPdf(['BT /F1 12 Tf 72 720 Td (Revenue rose 12 percent) Tj ET', 'BT /F1 12 Tf 72 720 Td (Costs fell) Tj ET'], 'Annual report'),
    }),
  };
  const cache = new Map<string, { type: string; body: Buffer; encoding?: string }>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const make = bodies[path];
    if (!make) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      return void res.end('no such page');
    }
    let page = cache.get(path);
    if (!page) cache.set(path, (page = make()));
    res.writeHead(200, {
      'content-type': page.type,
      'content-length': String(page.body.length),
      ...(page.encoding ? { 'content-encoding': page.encoding } : {}),
    });
    res.end(page.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    allowHost: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
