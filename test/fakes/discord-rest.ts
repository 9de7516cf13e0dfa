// REST routes of the fake Discord (see discord.ts for the whole picture): each request is matched
// to a v10 path and answered from the fake's state with Discord's JSON shapes and error codes.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FakeDiscord, Interaction, RecordedRequest, StoredMessage } from './discord.ts';

type Json = Record<string, any>;
export type Outcome = { status?: number; body?: unknown } | { error: [number, number, string] };

/** Parses, records and answers one REST request (injected failures first, then the routes). */
export async function handleRest(fake: FakeDiscord, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks);
  const url = new URL(req.url ?? '/', 'http://x');
  const path = url.pathname.replace(/^\/api\/v10/, '');
  const rec: RecordedRequest = {
    method: req.method ?? 'GET',
    path,
    query: url.search,
    auth: (req.headers.authorization as string | undefined) ?? null,
    body: null,
    files: [],
    status: 0,
    at: Date.now(),
  };
  const ct = String(req.headers['content-type'] ?? '');
  if (ct.startsWith('multipart/form-data')) {
    const form = await new Response(raw, { headers: { 'content-type': ct } }).formData();
    for (const [k, v] of form.entries()) {
      if (k === 'payload_json') rec.body = JSON.parse(String(v));
      else if (typeof v !== 'string') rec.files.push({ name: v.name, content: await v.text() });
    }
  } else if (raw.length) rec.body = JSON.parse(raw.toString('utf8'));
  fake.requests.push(rec);

  const reply = (status: number, body?: unknown, extra: Record<string, string> = {}) => {
    rec.status = status;
    const headers: Record<string, string> = {
      'x-ratelimit-limit': '5',
      'x-ratelimit-remaining': '4',
      'x-ratelimit-reset': String((Date.now() + 1000) / 1000),
      'x-ratelimit-reset-after': '1',
      'x-ratelimit-bucket': 'fake-' + rec.method + path.replace(/\d{5,}/g, ':id'),
      ...extra,
    };
    if (body === undefined) {
      res.writeHead(status, headers); // 204: no content-type at all
      res.end();
    } else {
      res.writeHead(status, { ...headers, 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    }
    fake.emit('change');
  };
  const error = (status: number, code: number, message: string) => reply(status, { message, code });

  const failure = fake.failures.find((f) => f.method === rec.method && f.path.test(path));
  if (failure) {
    if (--failure.times <= 0) fake.failures.splice(fake.failures.indexOf(failure), 1);
    if (failure.status === 429) {
      const ra = failure.retryAfter ?? 0.2;
      return reply(
        429,
        { message: 'You are being rate limited.', retry_after: ra, global: false },
        { 'retry-after': String(ra), 'x-ratelimit-remaining': '0', 'x-ratelimit-reset-after': String(ra), 'x-ratelimit-scope': 'user' },
      );
    }
    return error(failure.status, failure.code ?? 0, failure.message ?? 'Injected failure');
  }

  try {
    const out = routeRest(fake, rec);
    if (out === null) return error(404, 0, '404: Not Found');
    if ('error' in out) return error(out.error[0], out.error[1], out.error[2]);
    return reply(out.status ?? 200, out.body);
  } catch (e) {
    return error(500, 0, String(e));
  }
}

export function routeRest(fake: FakeDiscord, rec: RecordedRequest): Outcome | null {
  const { method, path, body } = rec;
  let m: RegExpMatchArray | null;
  const botAuthed = rec.auth === `Bot ${fake.token}`;
  const needsBot = !/^\/(interactions|webhooks)\//.test(path) && path !== '/gateway';
  if (needsBot && !botAuthed) return { error: [401, 0, '401: Unauthorized'] };

  if (method === 'GET' && path === '/gateway/bot')
    return {
      body: {
        url: fake.apiUrl.replace(/^http/, 'ws').replace(/\/api$/, '') + '/gateway',
        shards: 1,
        session_start_limit: { total: 1000, remaining: 999, reset_after: 14400000, max_concurrency: 1 },
      },
    };
  if (method === 'GET' && path === '/users/@me') return { body: fake.botUser };
  if (method === 'POST' && path === '/users/@me/channels') {
    const existing = [...fake.channels.values()].find((c) => c.type === 1 && c.recipients?.[0]?.id === body?.recipient_id);
    return { body: existing ?? fake.addChannel({ type: 1 }) };
  }
  if (method === 'GET' && path === '/applications/@me')
    return { body: { id: fake.applicationId, name: 'cir-bot', description: '', bot_public: true, bot: fake.botUser, flags: 0 } };

  if ((m = path.match(/^\/applications\/(\d+)(?:\/guilds\/(\d+))?\/commands$/))) {
    if (m[1] !== fake.applicationId) return { error: [403, 50001, 'Missing Access'] };
    const scope = m[2] ?? 'global';
    const current = fake.commands.get(scope) ?? [];
    const withIds = (c: Json): Json => ({ id: fake.snowflake(), application_id: fake.applicationId, version: fake.snowflake(), type: 1, ...(m![2] ? { guild_id: m![2] } : {}), ...c });
    if (method === 'GET') return { body: current };
    if (method === 'PUT') {
      const list = (body as Json[]).map(withIds);
      fake.commands.set(scope, list);
      return { body: list };
    }
    if (method === 'POST') {
      const c = withIds(body);
      fake.commands.set(scope, [...current.filter((x) => x.name !== c.name), c]);
      return { status: 201, body: c };
    }
  }

  if ((m = path.match(/^\/channels\/(\d+)$/)) && method === 'GET') {
    const ch = fake.channels.get(m[1]);
    if (!ch) return { error: [404, 10003, 'Unknown Channel'] };
    if (fake.deniedIn(ch.id).has('ViewChannel')) return { error: [403, 50001, 'Missing Access'] };
    return { body: ch };
  }
  // Trigger Typing Indicator (Channel resource): 204; the indicator expires after 10 s or when the bot posts.
  if ((m = path.match(/^\/channels\/(\d+)\/typing$/)) && method === 'POST') return { status: 204 };

  if ((m = path.match(/^\/channels\/(\d+)\/messages$/)) && method === 'POST') {
    const ch = fake.channels.get(m[1]);
    if (!ch) return { error: [404, 10003, 'Unknown Channel'] };
    const denied = fake.deniedIn(ch.id);
    if (denied.has('ViewChannel')) return { error: [403, 50001, 'Missing Access'] };
    const isThread = ch.type === 11 || ch.type === 12;
    if (denied.has(isThread ? 'SendMessagesInThreads' : 'SendMessages')) return { error: [403, 50013, 'Missing Permissions'] };
    if (rec.files.length && denied.has('AttachFiles')) return { error: [403, 50013, 'Missing Permissions'] };
    if (body?.message_reference && denied.has('ReadMessageHistory'))
      return { error: [400, 160002, 'Cannot reply without permission to read message history'] };
    const bad = checkMessageBody(body, rec.files.length);
    if (bad) return bad;
    return { body: fake.createBotMessage(ch.id, body, rec.files) };
  }
  if ((m = path.match(/^\/channels\/(\d+)\/messages\/(\d+)$/))) {
    const msg = fake.messages.get(m[2]);
    if (fake.deniedIn(m[1]).has('ViewChannel')) return { error: [403, 50001, 'Missing Access'] };
    if (!msg || msg.channel_id !== m[1]) return { error: [404, 10008, 'Unknown Message'] };
    if (method === 'GET') return { body: msg };
    if (method === 'PATCH') {
      if (msg.author?.id !== fake.applicationId) return { error: [403, 50005, 'Cannot edit a message authored by another user'] };
      const bad = body && 'content' in body ? checkMessageBody({ ...msg, ...body }, 0) : null;
      if (bad) return bad;
      return { body: fake.editMessage(msg, body) };
    }
    if (method === 'DELETE') {
      fake.messages.delete(msg.id);
      return { status: 204 };
    }
  }
  if ((m = path.match(/^\/channels\/(\d+)\/messages\/(\d+)\/threads$/)) && method === 'POST') {
    const parent = fake.channels.get(m[1]);
    if (!parent) return { error: [404, 10003, 'Unknown Channel'] };
    const denied = fake.deniedIn(parent.id);
    if (denied.has('ViewChannel')) return { error: [403, 50001, 'Missing Access'] };
    if (denied.has('CreatePublicThreads')) return { error: [403, 50013, 'Missing Permissions'] };
    if (parent.type !== 0 && parent.type !== 5) return { error: [400, 50024, 'Cannot execute action on this channel type'] };
    if (!fake.messages.has(m[2])) return { error: [404, 10008, 'Unknown Message'] };
    // JSON error codes: 160004 "A thread has already been created for this message"; Start Thread
    // from Message: the thread's id is the message's id (createThread).
    if (fake.threadOf.has(m[2])) return { error: [400, 160004, 'A thread has already been created for this message'] };
    return { status: 201, body: fake.createThread(parent.id, body?.name ?? 'thread', m[2]) };
  }
  if ((m = path.match(/^\/channels\/(\d+)\/threads$/)) && method === 'POST') {
    const parent = fake.channels.get(m[1]);
    if (!parent) return { error: [404, 10003, 'Unknown Channel'] };
    if (fake.deniedIn(parent.id).has('CreatePublicThreads')) return { error: [403, 50013, 'Missing Permissions'] };
    return { status: 201, body: fake.createThread(parent.id, body?.name ?? 'thread', fake.snowflake()) };
  }

  if ((m = path.match(/^\/interactions\/(\d+)\/([^/]+)\/callback$/)) && method === 'POST') {
    const it = fake.interactions.get(m[2]);
    if (!it || it.id !== m[1]) return { error: [404, 10062, 'Unknown interaction'] };
    if (fake.now() - it.createdAt > 3000) return { error: [404, 10062, 'Unknown interaction'] };
    return interactionCallback(fake, it, body, rec.query.includes('with_response=true'));
  }
  // discord.js sends @original percent-encoded.
  if ((m = path.match(/^\/webhooks\/(\d+)\/([^/]+)(\/messages\/(@original|%40original|\d+))?$/))) {
    const it = fake.interactions.get(m[2]);
    if (!it || m[1] !== fake.applicationId) return { error: [404, 10015, 'Unknown Webhook'] };
    if (fake.now() - it.createdAt > 15 * 60 * 1000) return { error: [401, 50027, 'Invalid Webhook Token'] };
    if (!m[3] && method === 'POST') return { body: fake.createBotMessage(it.channelId, body, rec.files, true) };
    const id = /original$/.test(m[4] ?? '') ? it.responseMessageId : m[4];
    const msg = id ? fake.messages.get(id) : undefined;
    if (!msg) return { error: [404, 10008, 'Unknown Message'] };
    if (method === 'GET') return { body: msg };
    if (method === 'PATCH') return { body: fake.editMessage(msg, body) };
    if (method === 'DELETE') {
      fake.messages.delete(msg.id);
      return { status: 204 };
    }
  }
  return null;
}

function checkMessageBody(body: Json | null, files: number): { error: [number, number, string] } | null {
  const content = body?.content ?? '';
  if (typeof content === 'string' && content.length > 2000)
    return { error: [400, 50035, 'Invalid Form Body: content: Must be 2000 or fewer in length.'] };
  if (!content && !files && !(body?.components?.length) && !(body?.embeds?.length))
    return { error: [400, 50006, 'Cannot send an empty message'] };
  return null;
}

function interactionCallback(fake: FakeDiscord, it: Interaction, body: Json, withResponse: boolean): { status?: number; body?: unknown } {
  const type = body?.type;
  let message: StoredMessage | undefined;
  if (type === 4 || type === 5) {
    const data = body.data ?? {};
    message = fake.createBotMessage(it.channelId, { ...data, flags: (data.flags ?? 0) | (type === 5 ? 128 : 0) }, [], true);
    it.responseMessageId = message.id;
  } else if (type === 6) {
    // Deferred update: @original is the message whose button was clicked.
    it.responseMessageId = lastClicked(fake, it)?.id ?? null;
  } else if (type === 7) {
    const msg = [...fake.messages.values()].find((m) => m.interaction_source === it.token) ?? lastClicked(fake, it);
    if (msg) message = fake.editMessage(msg, body.data ?? {});
  }
  if (!withResponse) return { status: 204 };
  return {
    body: {
      interaction: { id: it.id, type: 2, response_message_id: message?.id, response_message_loading: type === 5, response_message_ephemeral: Boolean((message?.flags ?? 0) & 64) },
      resource: { type, message },
    },
  };
}

function lastClicked(fake: FakeDiscord, it: Interaction): StoredMessage | undefined {
  const d = [...fake.gatewayOut].reverse().find((p) => p.t === 'INTERACTION_CREATE' && p.d.id === it.id);
  return d?.d.message ? fake.messages.get(d.d.message.id) : undefined;
}
