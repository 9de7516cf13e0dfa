// A local fake of Discord for integration tests: REST v10 over HTTP and the gateway over a real
// WebSocket, on 127.0.0.1 with an ephemeral port. Point discord.js at it with
// `rest: { api: fake.apiUrl }` (env DISCORD_API_URL); the gateway address comes from its
// GET /api/v10/gateway/bot, as with the real Discord. Files: this one (state, gateway, test
// drivers), discord-rest.ts (REST routes), discord-payloads.ts (payloads built from the fixtures).
//
// REST (paths under /api/v10): gateway/bot, users/@me, users/@me/channels (open a DM),
// applications/@me, applications/:app/commands
// and applications/:app/guilds/:g/commands (PUT bulk overwrite, POST, GET), channels/:id (GET),
// channels/:id/messages (POST json or multipart with files, GET one, PATCH), channels/:id/messages/:m/threads,
// channels/:id/threads, channels/:id/typing, interactions/:id/:token/callback (?with_response),
// webhooks/:app/:token (follow-ups) and webhooks/:app/:token/messages/@original (GET/PATCH/DELETE).
// Every response carries X-RateLimit-* headers; 204s carry no content-type (discord.js parses
// any JSON content-type, and an empty JSON body crashes it).
//
// Misbehaviour on demand: failNext() queues an error (429 with retry_after, 403 with a Discord
// code, ...) for the next matching request; deny() withdraws a channel permission so that the
// relevant endpoints answer 403 with code 50001 / 50013 like Discord; the fake's own clock
// (advance()) ages interaction tokens: after 15 minutes webhook calls answer 401 code 50027.
//
// Gateway: HELLO (heartbeat_interval), IDENTIFY -> READY -> GUILD_CREATE, heartbeat ACKs, RESUME
// -> RESUMED (dropGateway() cuts connections to exercise it), then
// dispatches: MESSAGE_CREATE (user messages from the test, and echoes of every message the bot
// creates, as Discord does), INTERACTION_CREATE, THREAD_CREATE. Without the Message Content
// intent in IDENTIFY, guild messages that do not mention the bot arrive with empty content, as on
// Discord. replay(t, d) dispatches a given payload (test/fixtures/discord, or a recorded corpus).
// Everything is recorded: `requests` (REST) and `gatewayIn` / `gatewayOut`.
//
// Test drivers: userMessage(), slashCommand(), clickButton() build payloads from the fixtures
// (discord-payloads.ts); waitFor(pred) resolves when a condition holds; channelMessages(),
// threadFor(messageId), messages and commands show the resulting state. The bot has its managed
// role (botRoleId) in the guild. Plain members have
// MEMBER_PERMISSIONS (no Manage Messages); the bot has everything but Administrator unless deny().
import { EventEmitter } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import * as P from './discord-payloads.ts';
import { handleRest } from './discord-rest.ts';

type Json = Record<string, any>;

export const PERMISSIONS = {
  ViewChannel: 1n << 10n,
  SendMessages: 1n << 11n,
  EmbedLinks: 1n << 14n,
  AttachFiles: 1n << 15n,
  ReadMessageHistory: 1n << 16n,
  CreatePublicThreads: 1n << 35n,
  SendMessagesInThreads: 1n << 38n,
} as const;
export type PermissionName = keyof typeof PERMISSIONS;
// The bot's permissions: everything except Administrator (bit 3), which would bypass every denial.
const ALL_PERMISSIONS = ((1n << 53n) - 1n) & ~(1n << 3n);
/** A plain member's permissions (@everyone): no Manage Messages. */
export const MEMBER_PERMISSIONS =
  PERMISSIONS.ViewChannel |
  PERMISSIONS.SendMessages |
  PERMISSIONS.EmbedLinks |
  PERMISSIONS.AttachFiles |
  PERMISSIONS.ReadMessageHistory |
  PERMISSIONS.CreatePublicThreads |
  PERMISSIONS.SendMessagesInThreads |
  (1n << 31n); // Use Application Commands
export const MANAGE_MESSAGES = 1n << 13n;

export interface RecordedRequest {
  method: string;
  /** Path after /api/v10, without the query. */
  path: string;
  query: string;
  auth: string | null;
  /** JSON body, or payload_json of a multipart body. */
  body: any;
  files: { name: string; content: string }[];
  status: number;
  /** Real time (ms) at which the request arrived. */
  at: number;
}

export interface Failure {
  method: string;
  path: RegExp;
  status: number;
  code?: number;
  message?: string;
  /** Seconds, for 429s. */
  retryAfter?: number;
  times: number;
}

export interface StoredMessage extends Json {
  id: string;
  channel_id: string;
  content: string;
  components: Json[];
  attachments: Json[];
  flags: number;
}

export interface Interaction {
  id: string;
  token: string;
  createdAt: number;
  channelId: string;
  responseMessageId: string | null;
}

const DISCORD_EPOCH = 1420070400000n;

export class FakeDiscord extends EventEmitter {
  readonly token: string;
  readonly botUser: Json;
  readonly applicationId: string;
  readonly guildId: string;
  readonly channelId: string;
  /** The bot's managed role in the guild (see #withBotRole). */
  readonly botRoleId = '1300000000000000042';
  readonly user: Json;
  readonly requests: RecordedRequest[] = [];
  readonly gatewayIn: Json[] = [];
  readonly gatewayOut: Json[] = [];
  readonly channels = new Map<string, Json>();
  readonly messages = new Map<string, StoredMessage>();
  readonly commands = new Map<string, Json[]>();
  heartbeatIntervalMs: number;
  apiUrl = '';
  private server: Server;
  private wss: WebSocketServer;
  private sockets = new Set<WebSocket>();
  private ready = new Set<WebSocket>();
  private sessions = new Set<string>();
  private seq = 0;
  /** Intents of the last IDENTIFY. */
  identifiedIntents = 0;
  private counter = 0;
  private clockOffset = 0;
  /** @internal (discord-rest.ts) */ readonly failures: Failure[] = [];
  private denied = new Map<string, Set<PermissionName>>();
  /** @internal (discord-rest.ts) */ readonly interactions = new Map<string, Interaction>();
  /** @internal (discord-rest.ts) */ readonly threadOf = new Map<string, string>();

  constructor(o: FakeDiscordOptions = {}) {
    super();
    const ids = { ...P.FIXTURE_IDS, ...o.ids };
    // Shaped like a real bot token (base64 user id . timestamp . HMAC): config validation checks the shape.
    this.token = o.token ?? `${Buffer.from('100000000000000001').toString('base64url')}.FakeTk.fake-bot-token-signature-0`;
    this.heartbeatIntervalMs = o.heartbeatIntervalMs ?? 41250;
    this.applicationId = ids.botId;
    this.guildId = ids.guildId;
    this.channelId = ids.channelId;
    this.user = P.userObject(ids.userId, ids.userName);
    this.botUser = { ...P.userObject(this.applicationId, 'cir-bot', true), discriminator: '6184' };
    this.channels.set(this.channelId, P.channelObject({ id: this.channelId, type: 0, guildId: this.guildId, name: 'research' }));
    this.server = createServer((req, res) => void handleRest(this, req, res));
    this.wss = new WebSocketServer({ server: this.server });
    this.wss.on('connection', (ws) => this.onGateway(ws));
  }

  async start(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.apiUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/api`;
    return this;
  }

  async close(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    await new Promise<void>((r) => this.wss.close(() => r()));
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  // ---- test controls -------------------------------------------------------------------------

  /** The fake's clock (ms); starts at real time, moved forward by advance(). */
  now(): number {
    return Date.now() + this.clockOffset;
  }

  advance(ms: number): void {
    this.clockOffset += ms;
  }

  failNext(f: Omit<Failure, 'times'> & { times?: number }): void {
    this.failures.push({ times: 1, ...f });
  }

  deny(channelId: string, ...perms: PermissionName[]): void {
    const set = this.denied.get(channelId) ?? new Set();
    for (const p of perms) set.add(p);
    this.denied.set(channelId, set);
  }

  snowflake(): string {
    return String(((BigInt(this.now()) - DISCORD_EPOCH) << 22n) | BigInt(this.counter++ & 0xfff));
  }

  /** Resolves once `pred` holds (checked after every request and gateway event). */
  waitFor<T>(pred: () => T | undefined | false | null, what: string, timeoutMs = 20000): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const v = pred();
        if (v) {
          cleanup();
          resolve(v);
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`fake discord: timed out waiting for ${what}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.off('change', check);
      };
      this.on('change', check);
      check();
    });
  }

  /** Messages of one channel in creation order. */
  channelMessages(channelId: string): StoredMessage[] {
    return [...this.messages.values()].filter((m) => m.channel_id === channelId);
  }

  threadFor(messageId: string): string | undefined {
    return this.threadOf.get(messageId);
  }

  addChannel(c: { id?: string; type: number; parentId?: string; name?: string }): Json {
    const id = c.id ?? this.snowflake();
    const ch = P.channelObject({ ...c, id, guildId: c.type === 1 ? undefined : this.guildId, ownerId: this.user.id });
    if (c.type === 1) ch.recipients = [this.user];
    this.channels.set(id, ch);
    return ch;
  }

  /** A user posts a message (stored and dispatched as MESSAGE_CREATE). */
  userMessage(o: {
    channelId?: string;
    content: string;
    mentionBot?: boolean;
    author?: Json;
    mentionRoles?: string[];
    mentionEveryone?: boolean;
    id?: string;
    referencedMessageId?: string;
  }): Json {
    const ch = this.channels.get(o.channelId ?? this.channelId)!;
    const d = P.messageCreate({
      id: o.id ?? this.snowflake(),
      channelId: ch.id,
      guildId: ch.type === 1 ? null : this.guildId,
      channelType: ch.type,
      author: o.author ?? this.user,
      content: o.content,
      mentions: o.mentionBot ? [this.botUser] : [],
      mentionRoles: o.mentionRoles,
      mentionEveryone: o.mentionEveryone,
      timestamp: new Date(this.now()).toISOString(),
      type: o.referencedMessageId ? 19 : 0,
      referencedMessageId: o.referencedMessageId,
    });
    this.messages.set(d.id, { components: [], attachments: [], flags: 0, ...d } as unknown as StoredMessage);
    // Without the privileged Message Content intent, Discord blanks the content of guild messages
    // that do not mention the app.
    const blank = ch.type !== 1 && !o.mentionBot && !(this.identifiedIntents & (1 << 15));
    this.dispatch('MESSAGE_CREATE', blank ? { ...d, content: '' } : d);
    return d;
  }

  /** A user runs /research in a channel; returns the interaction's id and token. */
  slashCommand(o: { channelId?: string; question: string; user?: Json; id?: string }): { id: string; token: string } {
    const ch = this.channels.get(o.channelId ?? this.channelId)!;
    const it = this.newInteraction(ch.id, o.id);
    const d = P.commandInteraction({
      id: it.id,
      token: it.token,
      applicationId: this.applicationId,
      commandId: '1400000000000000001',
      guildId: ch.type === 1 ? null : this.guildId,
      channel: ch,
      user: o.user ?? this.user,
      name: 'research',
      options: [{ name: 'question', type: 3, value: o.question }],
      appPermissions: this.appPermissions(ch.id).toString(),
    });
    this.dispatch('INTERACTION_CREATE', d);
    return it;
  }

  /** A user clicks the button `customId` on message `messageId`. */
  clickButton(o: { messageId: string; customId: string; user?: Json; memberPermissions?: bigint }): { id: string; token: string } {
    const msg = this.messages.get(o.messageId)!;
    const ch = this.channels.get(msg.channel_id)!;
    const it = this.newInteraction(ch.id);
    const d = P.buttonInteraction({
        id: it.id,
        token: it.token,
        applicationId: this.applicationId,
        guildId: ch.type === 1 ? null : this.guildId,
        channel: ch,
        user: o.user ?? this.user,
        customId: o.customId,
        message: msg,
        appPermissions: this.appPermissions(ch.id).toString(),
      });
    if (d.member) d.member.permissions = (o.memberPermissions ?? MEMBER_PERMISSIONS).toString();
    this.dispatch('INTERACTION_CREATE', d);
    return it;
  }

  /** Replays a recorded dispatch: user messages are stored first (so the bot can thread on them). */
  replay(t: string, d: Json): void {
    if (t === 'MESSAGE_CREATE' && d.author?.id !== this.applicationId)
      this.messages.set(d.id, { components: [], attachments: [], flags: 0, ...structuredClone(d) } as unknown as StoredMessage);
    this.dispatch(t, d);
  }

  /** Sends a raw dispatch to every identified gateway session. */
  dispatch(t: string, d: Json): void {
    for (const ws of this.ready) this.send(ws, { op: 0, t, s: ++this.seq, d });
  }

  // ---- permissions ---------------------------------------------------------------------------

  /** @internal (discord-rest.ts) */
  deniedIn(channelId: string): Set<PermissionName> {
    const ch = this.channels.get(channelId);
    const own = this.denied.get(channelId) ?? new Set<PermissionName>();
    const parent = ch?.parent_id ? (this.denied.get(ch.parent_id) ?? new Set<PermissionName>()) : new Set<PermissionName>();
    return new Set([...own, ...parent]);
  }

  appPermissions(channelId: string): bigint {
    let p = ALL_PERMISSIONS;
    for (const name of this.deniedIn(channelId)) p &= ~PERMISSIONS[name];
    return p;
  }

  // ---- gateway -------------------------------------------------------------------------------

  private send(ws: WebSocket, payload: Json): void {
    this.gatewayOut.push(payload);
    ws.send(JSON.stringify(payload));
    this.emit('change');
  }

  private onGateway(ws: WebSocket): void {
    this.sockets.add(ws);
    ws.on('close', () => {
      this.sockets.delete(ws);
      this.ready.delete(ws);
    });
    ws.on('message', (raw) => {
      const msg = JSON.parse(String(raw));
      this.gatewayIn.push(msg);
      if (msg.op === 1) this.send(ws, { op: 11, d: null, s: null, t: null });
      else if (msg.op === 2) this.identify(ws, msg.d);
      else if (msg.op === 6) this.resume(ws, msg.d);
      this.emit('change');
    });
    this.send(ws, { op: 10, d: { heartbeat_interval: this.heartbeatIntervalMs }, s: null, t: null });
  }

  /** Drops every gateway connection abruptly (close code 1006 for the client), as a network blip does. */
  dropGateway(): void {
    for (const ws of this.sockets) ws.terminate();
  }

  /** RESUME of a known session: RESUMED, then events continue (missed ones are not replayed here). */
  private resume(ws: WebSocket, d: Json): void {
    if (d.token !== this.token || !this.sessions.has(d.session_id)) {
      this.send(ws, { op: 9, d: false, s: null, t: null }); // invalid session: identify again
      return;
    }
    this.ready.add(ws);
    this.send(ws, { op: 0, t: 'RESUMED', s: ++this.seq, d: {} });
  }

  private identify(ws: WebSocket, d: Json): void {
    if (d.token !== this.token && d.token !== `Bot ${this.token}`) {
      ws.close(4004, 'Authentication failed.');
      return;
    }
    this.identifiedIntents = Number(d.intents ?? 0);
    const sessionId = 'fake-session-' + this.snowflake();
    this.sessions.add(sessionId);
    this.ready.add(ws);
    this.send(ws, {
      op: 0,
      t: 'READY',
      s: ++this.seq,
      d: P.ready({
        user: this.botUser,
        sessionId,
        resumeUrl: this.apiUrl.replace('http', 'ws') + '/gateway',
        guildId: this.guildId,
        applicationId: this.applicationId,
      }),
    });
    const guildChannels = [...this.channels.values()].filter((c) => c.guild_id === this.guildId);
    this.send(ws, {
      op: 0,
      t: 'GUILD_CREATE',
      s: ++this.seq,
      d: this.#withBotRole(
        P.guildCreate({
          guildId: this.guildId,
          channels: guildChannels.filter((c) => c.type !== 11),
          threads: guildChannels.filter((c) => c.type === 11),
          botUser: this.botUser,
          everyonePermissions: MEMBER_PERMISSIONS.toString(),
        }),
      ),
    });
  }

  // ---- REST ----------------------------------------------------------------------------------

  private newInteraction(channelId: string, id?: string): Interaction {
    const it: Interaction = {
      id: id ?? this.snowflake(),
      token: 'itoken-' + this.snowflake(),
      createdAt: this.now(),
      channelId,
      responseMessageId: null,
    };
    this.interactions.set(it.token, it);
    return it;
  }


  /**
   * A bot added to a guild gets a managed role named after it (Permissions docs, "Role Object":
   * `managed`, and "Role Tags": `bot_id`, the bot the role belongs to). Mention autocomplete often
   * offers it: such a message has `<@&role>` in its content and the role in mention_roles only.
   */
  #withBotRole(guild: Json): Json {
    guild.roles.push({ id: this.botRoleId, name: 'cir-bot', color: 0, hoist: false, position: 1, permissions: '0', managed: true, mentionable: true, flags: 0, tags: { bot_id: this.applicationId } });
    for (const m of guild.members) if (m.user.id === this.applicationId) m.roles = [...m.roles, this.botRoleId];
    return guild;
  }

  /** @internal (discord-rest.ts) */
  createBotMessage(channelId: string, body: Json, files: { name: string; content: string }[], viaInteraction = false): StoredMessage {
    const ch = this.channels.get(channelId)!;
    const id = this.snowflake();
    const msg: StoredMessage = {
      id,
      type: body?.message_reference ? 19 : 0,
      channel_id: channelId,
      ...(ch.guild_id ? { guild_id: ch.guild_id } : {}),
      author: this.botUser,
      content: body?.content ?? '',
      timestamp: new Date(this.now()).toISOString(),
      edited_timestamp: null,
      tts: false,
      mention_everyone: false,
      mentions: [],
      mention_roles: [],
      attachments: files.map((f, i) => ({
        id: this.snowflake(),
        filename: body?.attachments?.[i]?.filename ?? f.name,
        size: Buffer.byteLength(f.content),
        url: `https://cdn.example/${id}/${f.name}`,
        proxy_url: `https://media.example/${id}/${f.name}`,
        content_type: 'text/plain; charset=utf-8',
      })),
      embeds: body?.embeds ?? [],
      pinned: false,
      flags: body?.flags ?? 0,
      components: body?.components ?? [],
      ...(body?.message_reference ? { message_reference: body.message_reference } : {}),
      ...(viaInteraction ? { webhook_id: this.applicationId } : {}),
      allowed_mentions_sent: body?.allowed_mentions,
    };
    this.messages.set(id, msg);
    if (!(msg.flags & 64)) {
      const { allowed_mentions_sent: _drop, ...wire } = msg;
      this.dispatch('MESSAGE_CREATE', { ...wire, ...(ch.type ? { channel_type: ch.type } : { channel_type: 0 }) });
    }
    return msg;
  }

  /** @internal (discord-rest.ts) */
  editMessage(msg: StoredMessage, body: Json): StoredMessage {
    for (const k of ['content', 'components', 'embeds', 'flags', 'allowed_mentions'] as const) if (body && k in body) (msg as Json)[k] = body[k];
    msg.edited_timestamp = new Date(this.now()).toISOString();
    msg.editCount = (msg.editCount ?? 0) + 1;
    return msg;
  }

  /** @internal (discord-rest.ts) */
  createThread(parentId: string, name: string, messageId: string): Json {
    const thread = P.channelObject({ id: messageId, type: 11, guildId: this.guildId, parentId, name, ownerId: this.applicationId });
    this.channels.set(thread.id, thread);
    this.threadOf.set(messageId, thread.id);
    this.dispatch('THREAD_CREATE', { ...thread, newly_created: true });
    return thread;
  }
}

export interface FakeDiscordOptions {
  token?: string;
  heartbeatIntervalMs?: number;
  /** Other ids for the bot, guild, channel and user (to replay traffic recorded elsewhere). */
  ids?: Partial<Record<'botId' | 'guildId' | 'channelId' | 'userId' | 'userName', string>>;
}

export async function startFakeDiscord(o: FakeDiscordOptions = {}): Promise<FakeDiscord> {
  return new FakeDiscord(o).start();
}
