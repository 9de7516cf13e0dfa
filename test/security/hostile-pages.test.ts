// Pages that are cheap to send and expensive to read (issue 13): they are parsed in the worker
// pool, so the main loop keeps answering, and each job stops at its deadline or the step's abort.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createWebVisitor, ToolError, type WebVisitor } from '../../src/tools/index.ts';
import { createParsePool } from '../../src/tools/parse-pool/index.ts';
import type { Fetched } from '../../src/tools/fetch/http.ts';
import { createHttpServer, type BotHttpServer } from '../../src/ops/http.ts';
import { createMetrics } from '../../src/ops/metrics.ts';
import { silentLogger } from '../../src/util/log.ts';
import { buildPdf } from '../fakes/pdf-bomb.ts';
import { NESTED_PAGE, startHostileWeb, textBlocks, type HostileWeb } from '../fakes/hostile-web.ts';

const NO_CAPS = { maxDepth: Infinity, maxElements: Infinity };
const NO_PDF_CAPS = { maxStreamBytes: Infinity, maxInflatedBytes: Infinity, maxTextOps: Infinity, maxChars: Infinity };
const html = (body: string): Fetched => ({ finalUrl: 'http://page.test/', contentType: 'text/html', kind: 'html', bytes: Buffer.from(body), truncated: false });

let web: HostileWeb;
let visitor: WebVisitor;
let http: BotHttpServer;
let base: string;
before(async () => {
  web = await startHostileWeb();
  visitor = createWebVisitor({ allowHosts: [web.allowHost], timeoutMs: 10_000, maxBytes: 2 * 1024 * 1024 });
  http = createHttpServer({
    port: 0,
    host: '127.0.0.1',
    health: async () => ({ ok: true, problems: [], checks: {} }),
    metrics: createMetrics(),
    logger: silentLogger,
  });
  base = `http://127.0.0.1:${await http.listen()}`;
});
after(async () => {
  await visitor.close();
  await http.close();
  await web.close();
});

const fails = (code: string, re?: RegExp) => (e: unknown) => {
  assert.ok(e instanceof ToolError, `expected a ToolError, got ${String(e)}`);
  assert.equal(e.code, code, e.message);
  if (re) assert.match(e.message, re);
  return true;
};

test('the 500000-deep page of issue 13 is read through the depth cap', async () => {
  const page = await visitor.visit(`${web.url}/nested`);
  assert.equal(page.text, 'x');
});

test('/healthz and /metrics answer while a page is being parsed, and the step abort stops the job', async () => {
  const pool = createParsePool({ threads: 1, timeoutMs: 120_000 });
  try {
    const step = new AbortController();
    // Without the depth cap this parse takes minutes (htmlparser2's stack is quadratic in depth).
    const job = pool.read('http://page.test/', html(NESTED_PAGE), { maxPdfPages: 1, htmlCaps: NO_CAPS }, step.signal);
    let settled = false;
    job.then(() => (settled = true), () => (settled = true));
    assert.equal(pool.stats().running, 1);
    const health = await fetch(`${base}/healthz`);
    assert.equal(health.status, 200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /^cir_nodejs_eventloop_lag_seconds \d/m);
    assert.match(metrics, /^cir_nodejs_eventloop_lag_p99_seconds \d/m);
    assert.equal(settled, false, 'the parse finished before /healthz answered: the job was not long enough to prove anything');
    step.abort();
    await assert.rejects(job, fails('cancelled'));
    // One thread: had the aborted job kept its worker, this one would wait behind it for minutes.
    const next = await pool.read('http://page.test/', html('<html><body><p>after the abort</p></body></html>'), { maxPdfPages: 1 });
    assert.equal(next.text, 'after the abort');
  } finally {
    await pool.close();
  }
});

test('a parse job past its deadline is stopped and its worker replaced', async () => {
  const pool = createParsePool({ threads: 1, timeoutMs: 300 });
  try {
    await assert.rejects(
      pool.read('http://page.test/', html(NESTED_PAGE), { maxPdfPages: 1, htmlCaps: NO_CAPS }),
      fails('timeout', /was stopped/),
    );
    // The PDF path too: with its caps off, the text bomb runs until the deadline terminates it.
    const bomb: Fetched = { ...html(''), contentType: 'application/pdf', kind: 'pdf', bytes: buildPdf([textBlocks(80_000)]) };
    await assert.rejects(pool.read('http://page.test/', bomb, { maxPdfPages: 1, pdfCaps: NO_PDF_CAPS }), fails('timeout'));
    const next = await pool.read('http://page.test/', html('<p>still serving</p>'), { maxPdfPages: 1 });
    assert.equal(next.text, 'still serving');
  } finally {
    await pool.close();
  }
});

test('brotli and zstd bombs stop at the byte cap after decompression', async () => {
  for (const path of ['/brotli-bomb', '/zstd-bomb']) {
    const page = await visitor.visit(`${web.url}${path}`);
    assert.match(page.text, /\[page truncated after 2048 KB\]$/, path);
    assert.ok(page.text.length < 2 * 1024 * 1024 + 100, `${path}: ${page.text.length} characters`);
  }
});

test('a zstd frame asking for a window over 8 MB is refused (RFC 9659)', async () => {
  await assert.rejects(visitor.visit(`${web.url}/zstd-wide-window`), fails('encoding'));
});

test('PDF text and inflate bombs are refused before pdf.js lays them out; a real PDF still reads', async () => {
  await assert.rejects(visitor.visit(`${web.url}/pdf-text-bomb`), fails('too_large', /text pieces/));
  await assert.rejects(visitor.visit(`${web.url}/pdf-inflate-bomb`), fails('too_large', /inflates to more than 16 MB/));
  const report = await visitor.visit(`${web.url}/report.pdf`);
  assert.equal(report.title, 'Annual report');
  assert.match(report.text, /Revenue rose 12 percent[\s\S]*Costs fell/);
});
