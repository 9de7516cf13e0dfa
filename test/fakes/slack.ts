// A local fake of Slack for tests, over real HTTP and WebSocket on 127.0.0.1 (port 0).
//
// Web API (`apiUrl`, e.g. http://127.0.0.1:P/api/ — give it to the WebClient as slackApiUrl):
// - Accepts form-encoded (what @slack/web-api sends; nested values JSON-encoded) and JSON bodies.
// - Checks `Authorization: Bearer <token>` (or a `token` field): bot methods want the bot token,
//   apps.connections.open wants the app token; otherwise `{ ok: false, error: 'invalid_auth' }`.
// - Answers `{ ok: true, ... }` / `{ ok: false, error }` with HTTP 200, like Slack; unknown methods
//   get `unknown_method`. Scripted failures (`fail()`): a Slack error (with extra fields such as
//   `needed` for missing_scope) or HTTP 429 with `Retry-After`.
// - Records every call (`calls`), keeps posted messages (`messages`, edited by chat.update and
//   by the streaming methods) and uploaded files (`files`).
// - Methods: auth.test, chat.postMessage, chat.update, chat.postEphemeral, chat.startStream,
//   chat.appendStream, chat.stopStream (streaming can be switched off: startStream then fails with
//   `unknown_method`, as in a workspace without it), assistant.threads.setStatus / setTitle /
//   setSuggestedPrompts, apps.manifest.validate (with the configuration token),
//   files.getUploadURLExternal + POST to the returned upload URL (multipart) +
//   files.completeUploadExternal (the filesUploadV2 flow), conversations.info, conversations.replies,
//   apps.connections.open.
// Socket Mode: apps.connections.open returns ws://127.0.0.1:P/socket; the fake sends `hello`, and
// `sendEnvelope()` sends an `events_api` / `interactive` envelope and resolves with the client's
// ack (which must carry the envelope_id).
// Stream lifetime, thread status, rate tiers and the manifest check follow slack-agent.ts (each
// with the documentation it follows).
// HTTP events: `signRequest()` / `postSignedEvent()` sign a body the way Slack does:
// `X-Slack-Signature: v0=` + hex HMAC-SHA256(signing secret, `v0:{timestamp}:{body}`).
import { randomUUID } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
export { postSignedEvent, signRequest, type SignedPostOptions } from './slack-signing.ts';
import { RATE_TIERS, RateTiers, StatusBoard, type StreamState, streamState, validateManifest } from './slack-agent.ts';

export interface FakeSlackOptions {
  botToken?: string;
  appToken?: string;
  teamId?: string;
  botUserId?: string;
  botId?: string;
  /** Native streaming (chat.startStream & co.) available. Default true. */
  streaming?: boolean;
  /** How long after chat.startStream Slack closes the stream (default 5 minutes). */
  streamLifetimeMs?: number;
  /** How long a thread status lasts without a message (default 2 minutes). */
  statusTimeoutMs?: number;
  /** The rate-tier window (default one minute) and limits per method (default RATE_TIERS). */
  rateWindowMs?: number;
  rateLimits?: Record<string, number>;
}

export interface RecordedCall {
  method: string;
  args: Record<string, unknown>;
  /** Whether the call was answered with a scripted failure (or a 429 over its rate tier). */
  failed: boolean;
  at: number;
}

export interface FakeMessage {
  channel: string;
  ts: string;
  thread_ts?: string;
  text: string;
  blocks: unknown[];
  /** Chunks received by the streaming methods, in order. */
  chunks: Record<string, unknown>[];
  streaming?: 'open' | 'stopped' | 'repaired';
  streamStartedAt?: number;
  edits: number;
  user: string;
}

export interface FakeFile {
  id: string;
  filename: string;
  length: number;
  content: string;
  channel?: string;
  thread_ts?: string;
  completed: boolean;
}

export type ScriptedFailure =
  | { error: string; [extra: string]: unknown }
  | { status: 429; retryAfter: number };

interface FailRule {
  method: string;
  response: ScriptedFailure;
  times: number;
  when?: (args: Record<string, unknown>) => boolean;
}

export interface FakeSlack {
  readonly apiUrl: string;
  readonly botToken: string;
  readonly appToken: string;
  readonly teamId: string;
  readonly botUserId: string;
  readonly botId: string;
  readonly calls: RecordedCall[];
  readonly messages: FakeMessage[];
  readonly files: FakeFile[];
  readonly configToken: string;
  /** assistant.threads.setSuggestedPrompts calls that took effect (agent apps: without thread_ts). */
  readonly suggestedPrompts: { channel: string; title?: string; prompts: { title: string; message: string }[] }[];
  /** Thread titles set with assistant.threads.setTitle, by `channel/thread_ts`. */
  readonly titles: Map<string, string>;
  /** A streamed message as a person sees it now: open, stopped, expired (a broken pill) or repaired. */
  streamStateOf(m: FakeMessage): StreamState | null;
  /** The status line shown in a thread now ('' when none). */
  statusShown(channel: string, threadTs: string): string;
  /** Make the next `times` (default 1) calls of `method` (matching `when`) fail this way. */
  fail(method: string, response: ScriptedFailure, opts?: { times?: number; when?: (args: Record<string, unknown>) => boolean }): void;
  setStreaming(on: boolean): void;
  callsOf(method: string): RecordedCall[];
  /** Messages posted in one thread, in order. */
  thread(channel: string, threadTs: string): FakeMessage[];
  /** Resolves when `predicate` holds (checked after every call); rejects after `timeoutMs`. */
  waitFor(predicate: () => boolean, timeoutMs?: number, what?: string): Promise<void>;
  /** Socket Mode: sends an envelope to the connected client and resolves with its ack. */
  sendEnvelope(type: 'events_api' | 'interactive' | 'slash_commands', payload: unknown): Promise<Record<string, unknown>>;
  socketConnected(): boolean;
  close(): Promise<void>;
}

export async function startFakeSlack(opts: FakeSlackOptions = {}): Promise<FakeSlack> {
  const botToken = opts.botToken ?? 'xoxb-fake-bot-token';
  const appToken = opts.appToken ?? 'xapp-fake-app-token';
  const teamId = opts.teamId ?? 'T00FAKE00AA';
  const botUserId = opts.botUserId ?? 'U00FAKEBOT01';
  const botId = opts.botId ?? 'B00FAKEBOT01';
  let streaming = opts.streaming ?? true;
  const configToken = 'xoxe.xoxp-fake-config-token';
  const lifetimeMs = opts.streamLifetimeMs ?? 5 * 60_000;
  const statuses = new StatusBoard(opts.statusTimeoutMs ?? 120_000);
  const tiers = new RateTiers(opts.rateWindowMs ?? 60_000, { ...RATE_TIERS, ...opts.rateLimits });
  const suggestedPrompts: FakeSlack['suggestedPrompts'] = [];
  const titles = new Map<string, string>();
  const calls: RecordedCall[] = [];
  const messages: FakeMessage[] = [];
  const files: FakeFile[] = [];
  const rules: FailRule[] = [];
  const waiters = new Set<() => void>();
  let tsCounter = 0;
  let base = '';
  let socket: WebSocket | null = null;
  const pendingAcks = new Map<string, (ack: Record<string, unknown>) => void>();

  const nextTs = () => `${1767400000 + Math.floor(tsCounter / 1000)}.${String(++tsCounter).padStart(6, '0')}`;
  const notify = () => {
    for (const w of [...waiters]) w();
  };
  const find = (channel: unknown, ts: unknown) => messages.find((m) => m.channel === channel && m.ts === ts);
  const parseJsonField = (v: unknown): unknown => {
    if (typeof v !== 'string') return v;
    try {
      return JSON.parse(v);
    } catch {
      return v;
    }
  };

  type Handler = (args: Record<string, unknown>) => Record<string, unknown>;
  const methods: Record<string, Handler> = {
    'auth.test': () => ({ ok: true, url: 'https://fake.slack.test/', team: 'Fake', user: 'cir-bot', team_id: teamId, user_id: botUserId, bot_id: botId }),
    'chat.postMessage': (a) => {
      if (!a.channel) return { ok: false, error: 'channel_not_found' };
      if (!a.text && !a.blocks) return { ok: false, error: 'no_text' };
      const msg: FakeMessage = {
        channel: String(a.channel),
        ts: nextTs(),
        thread_ts: a.thread_ts ? String(a.thread_ts) : undefined,
        text: String(a.text ?? ''),
        blocks: (parseJsonField(a.blocks) as unknown[]) ?? [],
        chunks: [],
        edits: 0,
        user: botUserId,
      };
      messages.push(msg);
      statuses.replied(msg.channel, msg.thread_ts);
      return { ok: true, channel: msg.channel, ts: msg.ts, message: { text: msg.text, ts: msg.ts, user: botUserId, bot_id: botId } };
    },
    'chat.postEphemeral': () => ({ ok: true, message_ts: nextTs() }),
    'chat.update': (a) => {
      const msg = find(a.channel, a.ts);
      if (!msg) return { ok: false, error: 'message_not_found' };
      msg.text = String(a.text ?? msg.text);
      if (a.blocks !== undefined) msg.blocks = (parseJsonField(a.blocks) as unknown[]) ?? [];
      // chat.update is the documented repair of a stream Slack closed: the message becomes a plain one.
      if (streamState(msg, lifetimeMs) === 'expired') {
        msg.streaming = 'repaired';
        msg.chunks = [];
      }
      msg.edits++;
      return { ok: true, channel: msg.channel, ts: msg.ts, text: msg.text };
    },
    'chat.startStream': (a) => {
      if (!streaming) return { ok: false, error: 'unknown_method' };
      if (!a.channel || !a.thread_ts) return { ok: false, error: 'invalid_arguments' };
      if (!String(a.channel).startsWith('D') && (!a.recipient_user_id || !a.recipient_team_id))
        return { ok: false, error: 'missing_recipient_user_id' };
      const msg: FakeMessage = {
        channel: String(a.channel),
        ts: nextTs(),
        thread_ts: String(a.thread_ts),
        text: String(a.markdown_text ?? '') + markdownOf(a.chunks),
        blocks: [],
        chunks: ((parseJsonField(a.chunks) as Record<string, unknown>[]) ?? []).slice(),
        streaming: 'open',
        streamStartedAt: Date.now(),
        edits: 0,
        user: botUserId,
      };
      messages.push(msg);
      statuses.replied(msg.channel, msg.thread_ts);
      return { ok: true, channel: msg.channel, ts: msg.ts };
    },
    'chat.appendStream': (a) => {
      const msg = find(a.channel, a.ts);
      if (!msg) return { ok: false, error: 'message_not_found' };
      if (streamState(msg, lifetimeMs) !== 'open') return { ok: false, error: 'message_not_in_streaming_state' };
      msg.chunks.push(...((parseJsonField(a.chunks) as Record<string, unknown>[]) ?? []));
      if (a.markdown_text) msg.text += String(a.markdown_text);
      msg.text += markdownOf(a.chunks);
      return { ok: true, channel: msg.channel, ts: msg.ts };
    },
    'chat.stopStream': (a) => {
      const msg = find(a.channel, a.ts);
      if (!msg) return { ok: false, error: 'message_not_found' };
      if (streamState(msg, lifetimeMs) !== 'open') return { ok: false, error: 'message_not_in_streaming_state' };
      msg.chunks.push(...((parseJsonField(a.chunks) as Record<string, unknown>[]) ?? []));
      if (a.markdown_text) msg.text += String(a.markdown_text);
      msg.text += markdownOf(a.chunks);
      if (a.blocks) msg.blocks = parseJsonField(a.blocks) as unknown[];
      msg.streaming = 'stopped';
      return { ok: true, channel: msg.channel, ts: msg.ts };
    },
    'assistant.threads.setStatus': (a) => {
      if (!a.channel_id || !a.thread_ts || a.status === undefined) return { ok: false, error: 'invalid_arguments' };
      const loading = (parseJsonField(a.loading_messages) as string[] | undefined) ?? [];
      const error = statuses.set(String(a.channel_id), String(a.thread_ts), String(a.status), loading);
      return error ? { ok: false, error } : { ok: true };
    },
    'assistant.threads.setTitle': (a) => {
      if (!a.channel_id || !a.thread_ts || !a.title) return { ok: false, error: 'invalid_arguments' };
      titles.set(`${a.channel_id}/${a.thread_ts}`, String(a.title));
      return { ok: true };
    },
    'assistant.threads.setSuggestedPrompts': (a) => {
      const prompts = (parseJsonField(a.prompts) as { title: string; message: string }[] | undefined) ?? [];
      if (!a.channel_id || prompts.length === 0) return { ok: false, error: 'invalid_arguments' };
      // Method reference: up to four prompts; thread_ts is for the legacy assistant experience and
      // "including it in a call for an agent app will cause the call to silently fail".
      if (prompts.length > 4) return { ok: false, error: 'invalid_arguments' };
      if (!a.thread_ts) suggestedPrompts.push({ channel: String(a.channel_id), title: a.title ? String(a.title) : undefined, prompts });
      return { ok: true };
    },
    'files.getUploadURLExternal': (a) => {
      const id = `F${randomUUID().slice(0, 8).toUpperCase()}`;
      files.push({ id, filename: String(a.filename), length: Number(a.length), content: '', completed: false });
      return { ok: true, upload_url: `${base}/upload/${id}`, file_id: id };
    },
    'files.completeUploadExternal': (a) => {
      const list = (parseJsonField(a.files) as { id: string; title?: string }[]) ?? [];
      for (const f of list) {
        const file = files.find((x) => x.id === f.id);
        if (!file) return { ok: false, error: 'file_not_found' };
        file.completed = true;
        file.channel = a.channel_id ? String(a.channel_id) : undefined;
        file.thread_ts = a.thread_ts ? String(a.thread_ts) : undefined;
      }
      return { ok: true, files: list.map((f) => ({ id: f.id, title: f.title ?? '' })) };
    },
    'conversations.info': (a) => ({ ok: true, channel: { id: a.channel, is_member: true, is_im: String(a.channel).startsWith('D') } }),
    'conversations.replies': (a) => ({
      ok: true,
      messages: messages.filter((m) => m.channel === a.channel && (m.thread_ts === a.ts || m.ts === a.ts)).map((m) => ({ ts: m.ts, text: m.text, user: m.user })),
      has_more: false,
    }),
  };

  async function readBody(req: IncomingMessage): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const c of req) parts.push(c as Buffer);
    return Buffer.concat(parts);
  }

  function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
    res.end(JSON.stringify(body));
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', base);
    const raw = await readBody(req);
    if (url.pathname.startsWith('/upload/')) {
      const file = files.find((f) => f.id === url.pathname.slice('/upload/'.length));
      if (!file) return send(res, 404, { ok: false });
      const form = await new Request(base, { method: 'POST', headers: { 'content-type': String(req.headers['content-type']) }, body: raw }).formData();
      const part = [...form.values()][0];
      file.content = typeof part === 'string' ? part : await part.text();
      calls.push({ method: 'upload', args: { file_id: file.id, bytes: file.content.length }, failed: false, at: Date.now() });
      notify();
      res.writeHead(200, { 'content-type': 'text/plain' });
      return res.end(`OK - ${file.content.length}`);
    }
    if (!url.pathname.startsWith('/api/')) return send(res, 404, { ok: false, error: 'not_found' });
    const method = url.pathname.slice('/api/'.length);
    const ctype = String(req.headers['content-type'] ?? '');
    let args: Record<string, unknown> = {};
    const text = raw.toString('utf8');
    if (ctype.includes('application/json')) args = text ? JSON.parse(text) : {};
    else args = Object.fromEntries(new URLSearchParams(text));
    for (const k of ['blocks', 'chunks', 'files', 'loading_messages', 'prompts', 'manifest']) if (k in args) args[k] = parseJsonField(args[k]);
    const auth = String(req.headers.authorization ?? '').replace(/^Bearer\s+/i, '') || String(args.token ?? '');
    delete args.token;

    const rule = rules.find((r) => r.method === method && r.times > 0 && (!r.when || r.when(args)));
    calls.push({ method, args, failed: Boolean(rule), at: Date.now() });
    try {
      if (method === 'apps.connections.open') {
        if (auth !== appToken) return send(res, 200, { ok: false, error: 'invalid_auth' });
        return send(res, 200, { ok: true, url: `${base.replace('http', 'ws')}/socket?ticket=${randomUUID()}` });
      }
      if (method === 'apps.manifest.validate') {
        // Needs an app configuration token (apps.manifest.validate reference).
        if (auth !== configToken) return send(res, 200, { ok: false, error: 'invalid_auth' });
        const manifest = typeof args.manifest === 'object' && args.manifest ? (args.manifest as Record<string, unknown>) : null;
        if (!manifest) return send(res, 200, { ok: false, error: 'invalid_manifest' });
        const errors = validateManifest(manifest);
        return send(res, 200, errors.length ? { ok: false, error: 'invalid_manifest', errors } : { ok: true });
      }
      if (auth !== botToken) return send(res, 200, { ok: false, error: auth ? 'invalid_auth' : 'not_authed' });
      const wait = rule ? 0 : tiers.retryAfter(method);
      if (wait > 0) calls[calls.length - 1].failed = true;
      if (wait > 0) return send(res, 429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(wait) });
      if (rule) {
        rule.times--;
        if ('status' in rule.response) return send(res, 429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(rule.response.retryAfter) });
        return send(res, 200, { ok: false, ...rule.response });
      }
      const h = methods[method];
      if (!h) return send(res, 200, { ok: false, error: 'unknown_method' });
      return send(res, 200, h(args));
    } finally {
      notify();
    }
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => send(res, 500, { ok: false, error: String(err) }));
  });
  const wss = new WebSocketServer({ server, path: '/socket' });
  wss.on('connection', (ws) => {
    socket = ws;
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as Record<string, unknown>;
      const id = String(msg.envelope_id ?? '');
      const resolve = pendingAcks.get(id);
      if (resolve) {
        pendingAcks.delete(id);
        resolve(msg);
      }
    });
    ws.on('close', () => {
      if (socket === ws) socket = null;
      notify();
    });
    ws.send(JSON.stringify({ type: 'hello', num_connections: 1, debug_info: { host: 'fake', approximate_connection_time: 3600 }, connection_info: { app_id: 'A00FAKEAPP01' } }));
    notify();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    apiUrl: `${base}/api/`,
    botToken,
    appToken,
    teamId,
    botUserId,
    botId,
    calls,
    messages,
    files,
    configToken,
    suggestedPrompts,
    titles,
    streamStateOf: (m) => streamState(m, lifetimeMs),
    statusShown: (channel, threadTs) => statuses.shown(channel, threadTs),
    fail(method, response, o = {}) {
      rules.push({ method, response, times: o.times ?? 1, when: o.when });
    },
    setStreaming(on) {
      streaming = on;
    },
    callsOf: (method) => calls.filter((c) => c.method === method),
    thread: (channel, threadTs) => messages.filter((m) => m.channel === channel && m.thread_ts === threadTs),
    waitFor(predicate, timeoutMs = 15000, what = 'condition') {
      return new Promise<void>((resolve, reject) => {
        if (predicate()) return resolve();
        const check = () => {
          if (!predicate()) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`fake slack: timed out waiting for ${what}; calls: ${calls.map((c) => c.method).join(', ')}`));
        }, timeoutMs);
        waiters.add(check);
      });
    },
    sendEnvelope(type, payload) {
      if (!socket) return Promise.reject(new Error('fake slack: no Socket Mode client connected'));
      const envelope_id = randomUUID();
      const ack = new Promise<Record<string, unknown>>((r) => pendingAcks.set(envelope_id, r));
      socket.send(JSON.stringify({ envelope_id, type, payload, accepts_response_payload: type !== 'events_api', retry_attempt: 0, retry_reason: '' }));
      return ack;
    },
    socketConnected: () => socket !== null,
    async close() {
      for (const c of wss.clients) c.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** The text of the `markdown_text` chunks of a streaming call (appended to the message's text). */
function markdownOf(chunks: unknown): string {
  const list = (typeof chunks === 'string' ? JSON.parse(chunks) : chunks) as { type?: string; text?: string }[] | undefined;
  return (list ?? []).filter((c) => c.type === 'markdown_text').map((c) => String(c.text ?? '')).join('');
}
