import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createWebVisitor, ToolError, type WebVisitor } from '../../src/tools/index.ts';
import { parseHttpUrl } from '../../src/tools/fetch/http.ts';
import { ARTICLES, startFakeWeb, type FakeWeb } from '../fakes/web.ts';

let web: FakeWeb;
let visitor: WebVisitor;
before(async () => {
  web = await startFakeWeb();
  visitor = createWebVisitor({ allowHosts: [web.allowHost], timeoutMs: 3000, maxBytes: 1024 * 1024, maxRedirects: 5 });
});
after(async () => {
  await visitor.close();
  await web.close();
});

const fails = (re: RegExp, code?: string) => (e: unknown) => {
  assert.ok(e instanceof ToolError, `expected a ToolError, got ${String(e)}`);
  assert.match(e.message, re);
  if (code) assert.equal(e.code, code);
  return true;
};

test('an article page becomes readable text without page chrome', async () => {
  const a = ARTICLES[0];
  const page = await visitor.visit(`${web.url}${a.path}`);
  assert.equal(page.title, a.title);
  assert.equal(page.finalUrl, `${web.url}${a.path}`);
  assert.match(page.contentType, /text\/html/);
  assert.ok(page.text.includes(a.marker), page.text);
  assert.match(page.text, /## Key facts/);
  assert.match(page.text, /- First observed in 1843/);
  assert.match(page.text, /Year \| Value\n1843 \| 12\.5/);
  assert.match(page.text, /See the follow-up study for more/); // link text kept, link dropped
  for (const chrome of ['cookies', 'Share on', 'Most read', 'Copyright', 'tracking code', 'font-family', 'Sport'])
    assert.ok(!page.text.includes(chrome), `"${chrome}" leaked into: ${page.text}`);
});

test('the same URL twice is fetched once (cache)', async () => {
  const url = `${web.url}${ARTICLES[1].path}`;
  const first = await visitor.visit(url);
  const second = await visitor.visit(url);
  assert.equal(second.text, first.text);
  assert.equal(web.hits.get(ARTICLES[1].path), 1);
});

test('redirects are followed by hand up to the limit', async () => {
  const page = await visitor.visit(`${web.url}/chain/3`);
  assert.equal(page.finalUrl, `${web.url}${ARTICLES[0].path}`);
  assert.equal(page.url, `${web.url}/chain/3`);
  await assert.rejects(visitor.visit(`${web.url}/chain/9`), fails(/too many redirects/, 'redirects'));
});

test('redirects into private, loopback and metadata addresses are refused on the hop', async () => {
  const targets = [
    'http://127.0.0.1:9/',
    `http://localhost:${web.allowHost.split(':')[1]}/`, // a name resolving to loopback is not the allowed pair
    'http://169.254.169.254/latest/meta-data/',
    'http://2130706433/',
    'http://0x7f.0.0.1/',
    'http://0177.0.0.1/',
    'http://[::ffff:127.0.0.1]/',
    'http://[::1]/',
    'http://10.1.2.3/',
    'http://192.168.0.1/',
    'http://100.64.0.1/',
    'http://[fd00::1]/',
    'http://0.0.0.0/',
  ];
  for (const t of targets) {
    await assert.rejects(visitor.visit(`${web.url}/redirect?to=${encodeURIComponent(t)}`), fails(/refused to fetch/, 'refused'), t);
  }
});

test('IP-literal hosts in every numeric spelling are refused directly', async () => {
  const plain = createWebVisitor({ timeoutMs: 3000 });
  try {
    for (const host of ['127.0.0.1', '2130706433', '0x7f000001', '0x7f.1', '017700000001', '127.1', '0', '[::1]', '[::ffff:7f00:1]',
      '[::ffff:169.254.169.254]', '169.254.169.254', '[fe80::1]', '172.16.5.4', '[64:ff9b::a9fe:a9fe]']) {
      await assert.rejects(plain.visit(`http://${host}:${web.allowHost.split(':')[1]}/articles/volcano`), fails(/refused to fetch/, 'refused'), host);
    }
  } finally {
    await plain.close();
  }
});

test('a URL without a scheme is read as https', () => {
  assert.equal(parseHttpUrl('example.com/page?q=1#frag').href, 'https://example.com/page?q=1');
  assert.equal(parseHttpUrl('HTTP://Example.COM').href, 'http://example.com/');
  assert.equal(parseHttpUrl('docs.example.org:8443/a').href, 'https://docs.example.org:8443/a');
});

test('only http and https are visited', async () => {
  for (const u of ['file:///etc/passwd', 'ftp://example.com/x', 'javascript:alert(1)', 'data:text/html,hi', 'not a url'])
    await assert.rejects(visitor.visit(u), fails(/http and https|not a valid URL/, 'bad_url'), u);
  await assert.rejects(visitor.visit(`${web.url}/redirect?to=${encodeURIComponent('file:///etc/passwd')}`), fails(/http and https/));
});

test('slow, hanging and endless bodies are cut by time and size caps', async () => {
  const quick = createWebVisitor({ allowHosts: [web.allowHost], timeoutMs: 800, maxBytes: 256 * 1024 });
  try {
    await assert.rejects(quick.visit(`${web.url}/slow`), fails(/timed out/, 'timeout'));
    await assert.rejects(quick.visit(`${web.url}/hang`), fails(/timed out/, 'timeout'));
    const endless = await quick.visit(`${web.url}/endless`);
    assert.match(endless.text, /\[page truncated after 256 KB\]$/);
    assert.ok(endless.text.length < 300 * 1024);
  } finally {
    await quick.close();
  }
});

test('a gzip bomb is capped after decompression; brotli and deflate decode', async () => {
  const bomb = await visitor.visit(`${web.url}/gzip-bomb`);
  assert.match(bomb.text, /page truncated after 1024 KB/);
  assert.ok((await visitor.visit(`${web.url}/brotli`)).text.includes(ARTICLES[1].marker));
  assert.ok((await visitor.visit(`${web.url}/deflate`)).text.includes(ARTICLES[2].marker));
});

test('a huge page is truncated at the byte cap', async () => {
  const page = await visitor.visit(`${web.url}/huge`);
  assert.match(page.text, /huge page words/);
  assert.match(page.text, /page truncated/);
  assert.ok(page.text.length <= 1024 * 1024 + 100);
});

test('charsets come from the header, BOM or meta, not an assumed UTF-8', async () => {
  assert.match((await visitor.visit(`${web.url}/windows-1252`)).text, /“Café” déjà vu/);
  assert.match((await visitor.visit(`${web.url}/no-charset-1252`)).text, /“Café” déjà vu/);
  assert.match((await visitor.visit(`${web.url}/shift-jis`)).text, /日本語 こんにちは/);
  assert.match((await visitor.visit(`${web.url}/mislabelled`)).text, /naïve café ünïcödé/);
});

test('PDFs become text, also when served as octet-stream', async () => {
  const pdf = await visitor.visit(`${web.url}/doc.pdf`);
  assert.match(pdf.text, /Quarterly results improved by 42 percent/);
  assert.equal(pdf.title, 'Fake Report');
  const octet = await visitor.visit(`${web.url}/doc-octet`);
  assert.match(octet.text, /Quarterly results improved/);
  // PDFs have their own, larger byte cap
  const small = createWebVisitor({ allowHosts: [web.allowHost], maxBytes: 200, maxPdfBytes: 100_000 });
  try {
    assert.match((await small.visit(`${web.url}/doc.pdf`)).text, /Quarterly results/);
    assert.match((await small.visit(`${web.url}${ARTICLES[0].path}`)).text, /page truncated/);
  } finally {
    await small.close();
  }
});

test('unlabelled binary content is sniffed and refused without downloading it', async () => {
  await assert.rejects(visitor.visit(`${web.url}/blob`), fails(/not a readable page \(application\/octet-stream\)/, 'binary'));
});

test('HTTP errors and binary types are short errors; video is not downloaded', async () => {
  await assert.rejects(visitor.visit(`${web.url}/missing`), fails(/^HTTP 404 Not Found$/, 'http'));
  await assert.rejects(visitor.visit(`${web.url}/error`), fails(/^HTTP 500/, 'http'));
  await assert.rejects(visitor.visit(`${web.url}/video.mp4`), fails(/not a readable page \(video\/mp4, 2\.1 GB\)/, 'binary'));
});

test('plain text is returned as text', async () => {
  const page = await visitor.visit(`${web.url}/plain.txt`);
  assert.equal(page.text, 'Plain text\n\nwith lines.');
});
