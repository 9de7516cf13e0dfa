// web_visit as an attacker would use it: a model that read a hostile page picks the URL. Each
// attempt must fail by its effect (a loopback "internal" server is never contacted) and end as a
// short ToolError, never a hang and never more bytes than the cap.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { brotliCompressSync, constants as zc, deflateSync, gzipSync } from 'node:zlib';
import { createWebVisitor, ToolError, type WebVisitor } from '../../src/tools/index.ts';
import { startFakeWeb, type FakeWeb } from '../fakes/web.ts';

/** The "internal service" no visit may reach; counts every request it gets. */
let internal: Server;
let internalPort = 0;
let internalHits: string[] = [];
/** A hostile public-looking site (allow-listed, as the fake web is): bombs, lies and slow bytes. */
let hostile: Server;
let hostileUrl = '';
let web: FakeWeb;
let visitor: WebVisitor;
const MAX_BYTES = 1024 * 1024;
const ZEROS = Buffer.alloc(64 * 1024 * 1024, 'a'); // 64 MB of one letter: inflates from ~64 KB

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<[Server, number]> {
  const s = createServer(handler);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return [s, (s.address() as AddressInfo).port];
}

const page = (body: string) => `<!doctype html><html><head><title>t</title></head><body><p>${body}</p></body></html>`;

function hostileRoute(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x');
  switch (url.pathname) {
    case '/echo-headers': // what the server received, so header injection would show
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`${req.url}\n${JSON.stringify(req.headers)}`);
      return;
    case '/br-bomb':
      res.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'br' });
      res.end(brotliCompressSync(ZEROS, { params: { [zc.BROTLI_PARAM_QUALITY]: 1 } }));
      return;
    case '/deflate-bomb':
      res.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'deflate' });
      res.end(deflateSync(ZEROS));
      return;
    case '/stacked-bomb': // gzip inside gzip: each layer small, the inner one 64 MB
      res.writeHead(200, { 'content-type': 'text/html', 'content-encoding': 'gzip, gzip' });
      res.end(gzipSync(gzipSync(ZEROS)));
      return;
    case '/slowloris': {
      // Each byte comes well within the per-read timeout; only the whole-visit limit can stop it.
      res.writeHead(200, { 'content-type': 'text/html' });
      const timer = setInterval(() => res.write('<p>a</p>'), 400);
      res.on('close', () => clearInterval(timer));
      return;
    }
    case '/length-too-long': // promises 100 KB, sends a few bytes and hangs up
      res.writeHead(200, { 'content-type': 'text/html', 'content-length': '100000' });
      res.write(page('short'));
      setTimeout(() => res.destroy(), 50);
      return;
    case '/length-too-short': { // promises 40 bytes, sends much more on the same connection
      const body = page('start ' + 'tail '.repeat(5000));
      res.socket?.write(`HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 40\r\n\r\n${body}`);
      res.socket?.end();
      return;
    }
    default:
      res.writeHead(404).end();
  }
}

before(async () => {
  [internal, internalPort] = await listen((req, res) => {
    internalHits.push(`${req.method} ${req.headers.host}${req.url}`);
    res.end('internal secret');
  });
  let hostilePort: number;
  [hostile, hostilePort] = await listen(hostileRoute);
  hostileUrl = `http://127.0.0.1:${hostilePort}`;
  web = await startFakeWeb();
  visitor = createWebVisitor({ allowHosts: [web.allowHost, `127.0.0.1:${hostilePort}`], timeoutMs: 1500, maxBytes: MAX_BYTES, maxRedirects: 5 });
});

after(async () => {
  await visitor.close();
  await web.close();
  hostile.closeAllConnections();
  internal.closeAllConnections();
  await new Promise((r) => hostile.close(r));
  await new Promise((r) => internal.close(r));
});

/** Asserts a visit fails with one of `codes`; returns the message. */
async function refused(v: WebVisitor, url: string, codes: string[]): Promise<string> {
  try {
    await v.visit(url);
  } catch (e) {
    assert.ok(e instanceof ToolError, `${url}: expected a ToolError, got ${String(e)}`);
    assert.ok(codes.includes(e.code), `${url}: code ${e.code} (${e.message})`);
    return e.message;
  }
  assert.fail(`${url} was fetched`);
}

test('every spelling of an internal host is refused and the internal server is never contacted', async () => {
  const plain = createWebVisitor({ timeoutMs: 1500 });
  const p = internalPort;
  try {
    const urls = [
      `http://0.0.0.0:${p}/`, `http://0:${p}/`, `http://127.1:${p}/`, `http://0x7f.1:${p}/`, `http://017700000001:${p}/`,
      `http://2130706433:${p}/`, `http://127.000.000.001:${p}/`, `http://0x7f.0x0.0x0.0x1:${p}/`,
      `http://[::]:${p}/`, `http://[::1]:${p}/`, `http://[0:0:0:0:0:0:0:1]:${p}/`, `http://[::ffff:127.0.0.1]:${p}/`,
      `http://[::ffff:0:7f00:1]:${p}/`, // IPv4-translated
      `http://[64:ff9b::7f00:1]:${p}/`, `http://[64:ff9b::169.254.169.254]:${p}/`, // NAT64 embedding private IPv4
      `http://[2002:7f00:1::]:${p}/`, `http://[2002:a9fe:a9fe::1]:${p}/`, // 6to4 embedding private IPv4
      `http://[fe80::1%25lo]:${p}/`, `http://[fd00::1]:${p}/`, `http://100.64.0.1:${p}/`, `http://169.254.169.254:${p}/`,
      `http://localhost:${p}/`, `http://LOCALHOST:${p}/`, `http://localhost.:${p}/`,
      `http://%31%32%37.0.0.1:${p}/`, // percent-encoded host
      `http://１２７.０.０.１:${p}/`, // full-width digits (IDNA maps them to ASCII)
      `http://127.0.0.1:${p}\\@example.com/`, // backslash is a slash in http URLs: the host is 127.0.0.1
      `http://127.0.0.1:${p}#@example.com/`,
      `http://example.com@127.0.0.1:${p}/`, `http://127.0.0.1:${p}@example.com/`, // userinfo tricks
    ];
    for (const u of urls) await refused(plain, u, ['refused', 'bad_url', 'dns']);
    assert.deepEqual(internalHits, []);
  } finally {
    await plain.close();
  }
});

test('redirects to other schemes and to internal hosts on a later hop are refused', async () => {
  const hop = (to: string) => `${web.url}/redirect?to=${encodeURIComponent(to)}`;
  for (const to of ['gopher://127.0.0.1:70/_x', 'data:text/html,<p>hi</p>', 'file:///etc/passwd', 'javascript:alert(1)', 'ftp://127.0.0.1/'])
    assert.match(await refused(visitor, hop(to), ['bad_url']), /only http and https|not a valid URL/);
  const target = `http://127.0.0.1:${internalPort}/second-hop`;
  await refused(visitor, hop(target), ['refused']);
  let fifth = target.replace('second', 'fifth');
  for (let i = 0; i < 4; i++) fifth = hop(fifth);
  assert.match(await refused(visitor, fifth, ['refused']), /refused to fetch 127\.0\.0\.1/);
  assert.deepEqual(internalHits, []);
});

test('the allow list is exact host:port: another port, name or spelling of the same host is refused', async () => {
  const [, webPort] = web.allowHost.split(':');
  const hostilePort = new URL(hostileUrl).port;
  for (const u of [
    `http://127.0.0.1:${internalPort}/`, // allowed host, other port
    `http://localhost:${webPort}/articles/volcano`,
    `http://[::ffff:127.0.0.1]:${webPort}/articles/volcano`,
    `http://127.1:${Number(hostilePort) + 0}x/`, // not even a URL
  ])
    await refused(visitor, u, ['refused', 'bad_url', 'dns']);
  assert.deepEqual(internalHits, []);
});

test('proxy environment variables do not route visits around the guard', async () => {
  let proxyHits = 0;
  const [proxy, proxyPort] = await listen((_q, res) => {
    proxyHits++;
    res.end(page('via proxy'));
  });
  const names = ['HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'http_proxy', 'https_proxy', 'all_proxy'];
  const saved = names.map((n) => process.env[n]);
  for (const n of names) process.env[n] = `http://127.0.0.1:${proxyPort}`;
  const v = createWebVisitor({ allowHosts: [web.allowHost], timeoutMs: 1500 });
  try {
    await refused(v, `http://127.0.0.1:${internalPort}/`, ['refused']);
    await refused(v, 'http://169.254.169.254/latest/meta-data/', ['refused']);
    assert.match((await v.visit(`${web.url}/articles/volcano`)).text, /Kilauea/); // direct, not via the proxy
    assert.equal(proxyHits, 0);
    assert.deepEqual(internalHits, []);
  } finally {
    names.forEach((n, i) => (saved[i] === undefined ? delete process.env[n] : (process.env[n] = saved[i])));
    await v.close();
    proxy.closeAllConnections();
    await new Promise((r) => proxy.close(r));
  }
});

test('a URL of megabytes is refused before any request', async () => {
  const before = web.hits.get('/articles/volcano') ?? 0;
  const msg = await refused(visitor, `${web.url}/articles/volcano?q=${'x'.repeat(2_000_000)}`, ['bad_url']);
  assert.match(msg, /URL is too long/);
  assert.equal(web.hits.get('/articles/volcano') ?? 0, before);
});

test('CR/LF in a URL cannot inject request headers', async () => {
  for (const u of [`${hostileUrl}/echo-headers?a=%0d%0aX-Injected:%201`, `${hostileUrl}/echo-headers?a=\r\nX-Injected: 1\r\n`]) {
    const got = await visitor.visit(u);
    const headers = JSON.parse(got.text.slice(got.text.indexOf('{'))) as Record<string, string>;
    assert.equal(headers['x-injected'], undefined, got.text);
  }
});

test('decompression bombs (brotli, deflate, stacked gzip) stay within the byte cap', async () => {
  for (const path of ['/br-bomb', '/deflate-bomb']) {
    const p = await visitor.visit(`${hostileUrl}${path}`);
    assert.ok(p.text.startsWith('a'.repeat(MAX_BYTES / 2)), `${path}: not decoded`);
    assert.ok(p.text.length <= MAX_BYTES + 100, `${path}: ${p.text.length}`);
    assert.match(p.text, /\[page truncated after 1024 KB\]$/);
  }
  // Stacked encodings are not unwrapped at all: a short refusal, no 64 MB anywhere.
  assert.match(await refused(visitor, `${hostileUrl}/stacked-bomb`, ['encoding']), /unsupported content encoding/);
});

test('a slowloris body is cut by the whole-visit time limit', async () => {
  assert.match(await refused(visitor, `${hostileUrl}/slowloris`, ['timeout']), /timed out/);
});

test('a Content-Length that lies either way ends in an error or the declared bytes, never a hang', async () => {
  await refused(visitor, `${hostileUrl}/length-too-long`, ['network']);
  const short = await visitor.visit(`${hostileUrl}/length-too-short`);
  assert.ok(short.text.length <= 40, short.text);
});
