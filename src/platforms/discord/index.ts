// The Discord adapter: a discord.js gateway client with the fewest intents that work, handing
// events to handlers.ts and writing through the bot token's REST queue (which honours Discord's
// X-RateLimit headers and 429s). See README.md (Discord section) for the application setup.
import { Client, Events, GatewayIntentBits, Partials, REST } from 'discord.js';
import type { ChatService } from '../../chat/service.ts';
import type { ThreadRef, ThreadSurface } from '../../chat/types.ts';
import type { Env } from '../../config.ts';
import type { Logger } from '../../util/log.ts';
import type { PlatformAdapter } from '../types.ts';
import { createHandlers } from './handlers.ts';
import { DISCORD_LIMITS } from './limits.ts';
import { DiscordThreadSurface, restWriter } from './surface.ts';

export interface DiscordAdapterDeps {
  env: Pick<Env, 'DISCORD_TOKEN' | 'DISCORD_API_URL' | 'CIR_ALLOW_BOTS' | 'DISCORD_MESSAGE_CONTENT'>;
  chat: ChatService;
  logger: Logger;
}

export interface DiscordAdapterOptions {
  /** Least time between edits in one channel; default DISCORD_LIMITS.editIntervalMs (tests shorten it). */
  editIntervalMs?: number;
  /** How often the typing indicator is renewed (default DISCORD_LIMITS.typingRefreshMs; tests shorten it). */
  typingRefreshMs?: number;
}

/**
 * Guilds: channel and thread cache (GUILD_CREATE, THREAD_CREATE). GuildMessages and
 * DirectMessages: MESSAGE_CREATE for mentions, thread replies and DMs. Discord gives apps the
 * content of messages that mention them (replies that ping them included) and of DMs without the
 * privileged Message Content intent; only follow-ups in research threads *without* a mention need
 * it, so it is opt-in (DISCORD_MESSAGE_CONTENT=true), see README.md (Discord section).
 */
export function discordIntents(messageContent: boolean): GatewayIntentBits[] {
  const base = [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.DirectMessages];
  return messageContent ? [...base, GatewayIntentBits.MessageContent] : base;
}

export function createDiscordAdapter(deps: DiscordAdapterDeps, options: DiscordAdapterOptions = {}): PlatformAdapter {
  const { env, chat, logger: log } = deps;
  let client: Client | null = null;
  // Writes go through a REST client of our own: Client#destroy() clears its token, but research
  // still running at shutdown must deliver its final view.
  // Made at once, not at start(): a worker renders through it without a gateway connection.
  let rest: REST | null = env.DISCORD_TOKEN ? new REST({ api: env.DISCORD_API_URL }).setToken(env.DISCORD_TOKEN) : null;
  const rateLimitListeners: ((waitMs: number) => void)[] = [];
  let connected = false;
  let detail = 'not started';
  const watchRateLimits = (x: REST) =>
    x.on('rateLimited', (info) => {
      const waitMs = info.timeToReset > 0 ? info.timeToReset : info.retryAfter;
      log.debug({ route: info.route, waitMs }, 'discord: rate limited');
      for (const l of rateLimitListeners) l(waitMs);
    });
  if (rest) watchRateLimits(rest);

  return {
    name: 'discord',
    routes: [],
    async connectRest() {
      if (!rest) throw new Error('DISCORD_TOKEN is not set (see README.md (Discord section))');
      detail = 'rest only (worker)';
    },
    async start() {
      if (!env.DISCORD_TOKEN) throw new Error('DISCORD_TOKEN is not set (see README.md (Discord section))');
      const c = new Client({
        intents: discordIntents(env.DISCORD_MESSAGE_CONTENT),
        // DM channels are not cached until used: without this partial, DMs would be dropped.
        partials: [Partials.Channel],
        rest: { api: env.DISCORD_API_URL },
        // Model output may contain @everyone or <@id>: nothing the bot posts pings anyone unless asked.
        allowedMentions: { parse: [], repliedUser: false },
      });
      client = c;
      if (!rest) watchRateLimits((rest = new REST({ api: env.DISCORD_API_URL }).setToken(env.DISCORD_TOKEN)));
      const r = rest;
      const handlers = createHandlers({
        client: c,
        rest: r,
        chat,
        writer: restWriter(r),
        logger: log,
        allowBots: env.CIR_ALLOW_BOTS,
        editIntervalMs: options.editIntervalMs ?? DISCORD_LIMITS.editIntervalMs,
        typingRefreshMs: options.typingRefreshMs ?? DISCORD_LIMITS.typingRefreshMs,
      });
      const guard = (what: string, fn: () => Promise<void>) =>
        void fn().catch((err: unknown) => log.error({ err }, `discord: ${what} failed`));
      c.on(Events.MessageCreate, (m) => guard('message', () => handlers.onMessage(m)));
      c.on(Events.InteractionCreate, (i) => guard('interaction', () => handlers.onInteraction(i)));
      c.on(Events.ShardDisconnect, () => {
        connected = false;
        detail = 'gateway disconnected';
      });
      c.on(Events.ShardResume, () => {
        connected = true;
        detail = 'gateway resumed';
      });
      c.on(Events.ShardReady, () => {
        connected = true;
        detail = `ready as ${c.user?.tag ?? '?'}`;
      });
      c.on(Events.Error, (err) => log.error({ err }, 'discord client error'));
      watchRateLimits(c.rest);
      const ready = new Promise<void>((resolve) => c.once(Events.ClientReady, () => resolve()));
      try {
        await c.login(env.DISCORD_TOKEN);
      } catch (err) {
        const why = err instanceof Error ? err.message : String(err);
        detail = `login failed: ${why}`;
        client = null;
        await c.destroy().catch(() => {});
        const hint = /disallowed intents/i.test(why)
          ? 'enable "Message Content Intent" on the Bot page of the Developer Portal, or unset DISCORD_MESSAGE_CONTENT'
          : 'check DISCORD_TOKEN';
        throw new Error(`Discord login failed (${hint}): ${why}`);
      }
      await ready;
      connected = true;
      detail = `ready as ${c.user?.tag ?? '?'} in ${c.guilds.cache.size} guild(s)`;
      log.info({ user: c.user?.id, guilds: c.guilds.cache.size }, 'discord: connected');
    },
    async stop() {
      connected = false;
      detail = 'stopped';
      const c = client;
      client = null;
      if (!c) return;
      c.removeAllListeners(Events.MessageCreate);
      c.removeAllListeners(Events.InteractionCreate);
      await c.destroy();
    },
    status() {
      return { connected: connected && client !== null, detail };
    },
    surface(ref: ThreadRef): ThreadSurface {
      if (!rest) throw new Error('discord adapter is not started');
      return new DiscordThreadSurface({
        writer: restWriter(rest),
        channelId: ref.threadId || ref.channelId,
        logger: log,
        typingRefreshMs: options.typingRefreshMs ?? DISCORD_LIMITS.typingRefreshMs,
      });
    },
    onRateLimit(listener: (waitMs: number) => void) {
      rateLimitListeners.push(listener);
    },
  };
}
