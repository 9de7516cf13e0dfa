// One guarded GET: redirects followed by hand (each hop dialled through the SSRF-checking
// connector), time caps on connect/headers/body/total, byte cap after decompression, and a refusal
// to download binary types.
import { Readable, pipeline } from 'node:stream';
import zlib from 'node:zlib';
import { Agent } from 'undici';
import { scrubText } from '../../util/scrub.ts';
import { ToolError } from '../types.ts';
import { guardedConnector } from './guard.ts';

export interface FetchOptions {
  allowHosts: readonly string[];
  /** Whole visit, all hops included. */
  timeoutMs: number;
  maxBytes: number;
  maxPdfBytes: number;
  maxRedirects: number;
  userAgent?: string;
}

export type BodyKind = 'html' | 'text' | 'pdf';

export interface Fetched {
  finalUrl: string;
  contentType: string;
  kind: BodyKind;
  bytes: Buffer;
  truncated: boolean;
}

const UA =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** zlib.constants.ZSTD_d_windowLogMax (Node >= 22.15). */
const ZSTD_D_WINDOW_LOG_MAX = (zlib.constants as Record<string, number>).ZSTD_d_windowLogMax ?? 100;
const hasZstd = typeof (zlib as { createZstdDecompress?: unknown }).createZstdDecompress === 'function';

export class HttpFetcher {
  readonly agent: Agent;
  readonly opts: FetchOptions;

  constructor(opts: FetchOptions) {
    this.opts = opts;
    const step = Math.min(opts.timeoutMs, 15000);
    this.agent = new Agent({
      connect: guardedConnector({ allowHosts: opts.allowHosts, connectTimeoutMs: step }),
      headersTimeout: step,
      bodyTimeout: step,
      keepAliveTimeout: 4000,
    });
  }

  async fetch(url: string, signal?: AbortSignal): Promise<Fetched> {
    const timeout = AbortSignal.timeout(this.opts.timeoutMs);
    const all = signal ? AbortSignal.any([signal, timeout]) : timeout;
    try {
      return await this.follow(url, all);
    } catch (err) {
      if (timeout.aborted) throw new ToolError('timeout', `timed out after ${Math.round(this.opts.timeoutMs / 1000)} s`);
      if (signal?.aborted) throw new ToolError('cancelled', 'cancelled');
      throw toToolError(err);
    }
  }

  private async follow(start: string, signal: AbortSignal): Promise<Fetched> {
    let url = parseHttpUrl(start);
    for (let hop = 0; ; hop++) {
      const res = await this.agent.request({
        origin: url.origin,
        path: url.pathname + url.search,
        method: 'GET',
        headers: {
          'user-agent': this.opts.userAgent ?? UA,
          accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,application/pdf;q=0.8,text/plain;q=0.7,*/*;q=0.5',
          'accept-language': 'en-US,en;q=0.9',
          'accept-encoding': hasZstd ? 'gzip, deflate, br, zstd' : 'gzip, deflate, br',
        },
        signal,
      });
      const status = res.statusCode;
      if (REDIRECTS.has(status)) {
        discard(res.body);
        const loc = header(res.headers, 'location');
        if (!loc) throw new ToolError('http', `HTTP ${status} redirect without a Location header`);
        if (hop >= this.opts.maxRedirects) throw new ToolError('redirects', `too many redirects (more than ${this.opts.maxRedirects})`);
        url = parseHttpUrl(new URL(loc, url).href);
        continue;
      }
      if (status >= 400) {
        discard(res.body);
        throw new ToolError('http', `HTTP ${status}${STATUS_TEXT[status] ? ` ${STATUS_TEXT[status]}` : ''}`);
      }
      const contentType = header(res.headers, 'content-type') ?? '';
      let kind = kindOf(contentType);
      if (kind === 'binary') {
        discard(res.body);
        throw binaryError(contentType, header(res.headers, 'content-length'));
      }
      let body: Readable;
      try {
        body = decompress(res.body, header(res.headers, 'content-encoding'));
      } catch (err) {
        discard(res.body);
        throw err;
      }
      const declared = kind;
      // Unknown types are sniffed from the first bytes before deciding how much to download.
      const { bytes, truncated, sniffed } = await readCapped(body, (head) => {
        const k = declared === 'unknown' ? sniff(head) : declared;
        return { kind: k, cap: k === 'binary' ? 0 : k === 'pdf' ? Math.max(this.opts.maxBytes, this.opts.maxPdfBytes) : this.opts.maxBytes };
      });
      kind = sniffed;
      if (kind === 'binary') throw binaryError(contentType || 'unknown type', header(res.headers, 'content-length'));
      return { finalUrl: url.href, contentType, kind, bytes, truncated };
    }
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

/** Longer URLs are refused up front: servers reject them anyway (414/431), and a model-built URL
 *  of megabytes is a mistake or an attack, not a page. */
export const MAX_URL_CHARS = 8192;

export function parseHttpUrl(raw: string): URL {
  let u: URL;
  let text = String(raw ?? '').trim();
  if (text.length > MAX_URL_CHARS) throw new ToolError('bad_url', `the URL is too long (${text.length} characters; the limit is ${MAX_URL_CHARS})`);
  // Models often drop the scheme ("example.com/page"): read it as https. (A colon and a digit is a port.)
  if (!/^[a-z][a-z0-9+.-]*:(?!\d)/i.test(text) && /^[\w-]+(\.[\w-]+)*\.[a-z]{2,}(?=[/:?#]|$)/i.test(text)) text = `https://${text}`;
  try {
    u = new URL(text);
  } catch {
    throw new ToolError('bad_url', `not a valid URL: ${text.slice(0, 200)}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new ToolError('bad_url', `only http and https URLs can be visited, not ${u.protocol.replace(':', '')}`);
  if (u.username || u.password) throw new ToolError('bad_url', 'URLs with credentials are not visited');
  u.hash = '';
  return u;
}

/** Drops a response body we do not want (undici reports the abort as an error event). */
function discard(body: Readable): void {
  body.on('error', () => {});
  body.destroy();
}

function header(h: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

function kindOf(contentType: string): BodyKind | 'binary' | 'unknown' {
  const t = contentType.split(';')[0].trim().toLowerCase();
  if (t === '' || t === 'application/octet-stream' || t === 'binary/octet-stream' || t === 'application/unknown') return 'unknown';
  if (t === 'text/html' || t === 'application/xhtml+xml') return 'html';
  if (t === 'application/pdf' || t === 'application/x-pdf') return 'pdf';
  if (t.startsWith('text/') || /^application\/([\w.+-]+\+)?(json|xml|javascript|x-javascript|ld\+json)$/.test(t)) return 'text';
  return 'binary';
}

function sniff(bytes: Buffer): BodyKind | 'binary' {
  if (bytes.subarray(0, 5).toString('latin1') === '%PDF-') return 'pdf';
  const head = bytes.subarray(0, 1024);
  if (head.includes(0)) return 'binary';
  return /^\s*<(!doctype html|html|head|body)/i.test(head.toString('latin1')) ? 'html' : 'text';
}

function binaryError(contentType: string, length: string | undefined): ToolError {
  const type = contentType.split(';')[0].trim() || 'unknown type';
  const size = length && /^\d+$/.test(length) ? `, ${humanBytes(Number(length))}` : '';
  return new ToolError('binary', `not a readable page (${type}${size}): web_visit reads HTML, text and PDF`);
}

function humanBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(0)} KB`;
  return `${n} bytes`;
}

function decompress(body: Readable, encoding: string | undefined): Readable {
  const enc = (encoding ?? '').trim().toLowerCase();
  let z: zlib.Gunzip | zlib.Inflate | zlib.BrotliDecompress | NodeJS.ReadWriteStream;
  if (enc === 'gzip' || enc === 'x-gzip') z = zlib.createGunzip();
  else if (enc === 'deflate') z = zlib.createInflate();
  else if (enc === 'br') z = zlib.createBrotliDecompress();
  // RFC 9659 §3: zstd content coding uses windows of at most 8 MB and decoders may refuse larger
  // ones. Without the cap a frame may demand a 128 MB window (the library default limit) per visit.
  else if (enc === 'zstd' && hasZstd)
    z = (zlib as unknown as { createZstdDecompress(o: object): zlib.Gunzip }).createZstdDecompress({
      params: { [ZSTD_D_WINDOW_LOG_MAX]: 23 },
    });
  else if (enc === '' || enc === 'identity') return body;
  else throw new ToolError('encoding', `unsupported content encoding ${enc}`);
  return pipeline(body, z as zlib.Gunzip, () => {}) as unknown as Readable;
}

type Decision = { kind: BodyKind | 'binary'; cap: number };

/**
 * Reads the body (after decompression) up to a cap chosen from its first bytes, then stops the
 * download. A cap of 0 stops at once (binary content).
 */
async function readCapped(stream: Readable, decide: (head: Buffer) => Decision): Promise<{ bytes: Buffer; truncated: boolean; sniffed: BodyKind | 'binary' }> {
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  let decision: Decision | undefined;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      size += chunk.length;
      if (!decision && size >= 1024) {
        decision = decide(Buffer.concat(chunks, size));
        if (decision.cap === 0) break;
      }
      if (decision && size > decision.cap) {
        truncated = true;
        break;
      }
    }
  } finally {
    stream.on('error', () => {});
    stream.destroy();
  }
  let all = Buffer.concat(chunks, size);
  decision ??= decide(all);
  if (all.length > decision.cap) {
    all = all.subarray(0, decision.cap);
    truncated = decision.cap > 0;
  }
  return { bytes: all, truncated, sniffed: decision.kind };
}

function toToolError(err: unknown): ToolError {
  if (err instanceof ToolError) return err;
  const e = err as { code?: string; message?: string; cause?: unknown };
  if (e?.cause instanceof ToolError) return e.cause;
  switch (e?.code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return new ToolError('timeout', 'timed out connecting to the server');
    case 'UND_ERR_HEADERS_TIMEOUT':
      return new ToolError('timeout', 'timed out waiting for the server to answer');
    case 'UND_ERR_BODY_TIMEOUT':
      return new ToolError('timeout', 'timed out reading the page');
    case 'ECONNREFUSED':
      return new ToolError('network', 'connection refused');
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return new ToolError('network', 'the connection was closed by the server');
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ToolError('dns', 'could not resolve the host name');
    case 'Z_DATA_ERROR':
    case 'Z_BUF_ERROR':
    case 'ERR_PADDING_1':
      return new ToolError('encoding', 'the page was not validly compressed');
  }
  if (/^ZSTD_error_/.test(e?.code ?? '') || /^ERR_BROTLI_/.test(e?.code ?? ''))
    return new ToolError('encoding', 'the page was not validly compressed (or needs more memory to decompress than allowed)');
  // Library messages go to the model and the thread: scrubbed (a proxy URL or header can be in them).
  const said = scrubText(e?.message ?? String(err)).slice(0, 200);
  if (/certificate|TLS|SSL/i.test(said)) return new ToolError('tls', `TLS error: ${said}`);
  return new ToolError('network', `network error: ${said}`);
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 402: 'Payment Required', 403: 'Forbidden', 404: 'Not Found',
  405: 'Method Not Allowed', 406: 'Not Acceptable', 408: 'Request Timeout', 410: 'Gone', 429: 'Too Many Requests',
  451: 'Unavailable For Legal Reasons', 500: 'Internal Server Error', 502: 'Bad Gateway',
  503: 'Service Unavailable', 504: 'Gateway Timeout',
};
