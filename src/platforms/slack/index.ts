// The Slack adapter: a Bolt app that turns mentions, thread replies and DMs into research requests
// for the chat layer and renders each thread through SlackThreadSurface. Socket Mode when
// SLACK_APP_TOKEN is set; otherwise Slack POSTs events to /slack/events on the bot's HTTP server,
// where Bolt's HTTPReceiver verifies the signature (and the timestamp's age) before anything runs.
import { App, HTTPReceiver, LogLevel, SocketModeReceiver, type Logger as BoltLogger } from '@slack/bolt';
import { WebClient, WebClientEvent, type WebClientOptions } from '@slack/web-api';
import type { ChatService, SubmitOptions } from '../../chat/service.ts';
import type { ThreadRef } from '../../chat/types.ts';
import type { Env } from '../../config.ts';
import type { Logger } from '../../util/log.ts';
import type { HttpRoute, PlatformAdapter } from '../types.ts';
import { ACTION_FEEDBACK, ACTION_FEEDBACK_DOWN, ACTION_FEEDBACK_UP, ACTION_RETRY, ACTION_STOP } from './blocks.ts';
import { slackErrorCode } from './errors.ts';
import { type AppHomeOpenedEvent, type SlackActionBody, type SlackEventBody, SUGGESTED_PROMPTS, agentOpened, helpText, parseAction, parseMessageEvent } from './events.ts';
import { SLACK_RATES, type SlackTiming } from './limits.ts';
import { SlackThreadSurface, type SlackSurfaceContext } from './surface.ts';

export const SLACK_EVENTS_PATH = '/slack/events';

type SlackEnv = Pick<
  Env,
  'SLACK_BOT_TOKEN' | 'SLACK_SIGNING_SECRET' | 'SLACK_APP_TOKEN' | 'SLACK_API_URL' | 'CIR_ALLOW_BOTS' | 'CIR_FOLLOWUP'
>;

export interface SlackAdapterDeps {
  env: SlackEnv;
  chat: ChatService;
  logger: Logger;
  /** Tuning for tests; production uses the defaults. */
  options?: {
    /** Least time between two renders in one workspace (default: under chat.update's Tier 3). */
    renderIntervalMs?: number;
    /** Try Slack's native streaming for code steps (default true). */
    streaming?: boolean;
    /** Web API retry policy (default: up to 6 retries with backoff; 429s wait for Retry-After). */
    retryConfig?: WebClientOptions['retryConfig'];
    /** Stream rotation and status refresh (default SLACK_TIMING). */
    timing?: Partial<SlackTiming>;
  };
}

export function createSlackAdapter(deps: SlackAdapterDeps): PlatformAdapter {
  const { env, chat, logger } = deps;
  const token = env.SLACK_BOT_TOKEN;
  if (!token) throw new Error('Slack: SLACK_BOT_TOKEN is not set');
  const socketMode = Boolean(env.SLACK_APP_TOKEN);
  if (!socketMode && !env.SLACK_SIGNING_SECRET)
    throw new Error('Slack: set SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP events)');

  const boltLogger = toBoltLogger(logger);
  const clientOptions: WebClientOptions = {
    slackApiUrl: env.SLACK_API_URL,
    logger: boltLogger,
    retryConfig: deps.options?.retryConfig ?? { retries: 6, factor: 2, minTimeout: 500, maxTimeout: 30_000, randomize: true },
  };
  // Our own client for everything we post (Bolt's per-event clients stay for Bolt's internals).
  const client = new WebClient(token, clientOptions);
  const rateLimitListeners: Array<(waitMs: number) => void> = [];
  client.on(WebClientEvent.RATE_LIMITED, (retrySec: number) => {
    logger.warn({ retrySec }, 'slack: rate limited; waiting as Slack asked');
    for (const l of rateLimitListeners) l(retrySec * 1000);
  });

  const receiver = socketMode
    ? new SocketModeReceiver({ appToken: env.SLACK_APP_TOKEN!, logger: boltLogger, installerOptions: { clientOptions } })
    : new HTTPReceiver({ signingSecret: env.SLACK_SIGNING_SECRET!, endpoints: SLACK_EVENTS_PATH, logger: boltLogger, processBeforeResponse: false });
  const app = new App({ token, receiver, logger: boltLogger, clientOptions, deferInitialization: true });

  let botUserId = '';
  let botId: string | undefined;
  let running = false;
  let connected = false;
  const surfaceCtx: SlackSurfaceContext = {
    client,
    logger,
    botUserId: () => botUserId,
    streamingByWorkspace: new Map(),
    streamingEnabled: deps.options?.streaming ?? true,
    timing: deps.options?.timing,
  };
  const submitOptions = (workspaceId: string): SubmitOptions => ({
    minIntervalMs: deps.options?.renderIntervalMs ?? Math.ceil(60_000 / SLACK_RATES.chatUpdatePerMinute),
    // chat.update's limit is per workspace: every thread of a workspace shares one pace.
    pacingKey: `slack:${workspaceId}`,
  });

  const researchSurface = (ref: ThreadRef, userId: string, dm = ref.channelId.startsWith('D')) =>
    new SlackThreadSurface(surfaceCtx, {
      ref,
      userId,
      dm,
      // No one could see the research: do not spend the model on it.
      onUnreachable: (sessionId) => void chat.cancelSession(sessionId, botUserId, { moderator: true }),
    });

  const postInThread = async (ref: ThreadRef, text: string) => {
    try {
      await client.chat.postMessage({ channel: ref.channelId, thread_ts: ref.threadId, text, unfurl_links: false, unfurl_media: false });
    } catch (err) {
      logger.warn({ err: slackErrorCode(err), ref }, 'slack: could not reply in thread');
    }
  };

  const onMessage = async (body: SlackEventBody) => {
    if (!running) return;
    // Asked of the store before parsing (which is synchronous): only replies in a thread can be follow-ups.
    const e = body.event;
    const researchThread =
      e?.channel && e.thread_ts && e.thread_ts !== e.ts
        ? await chat.isResearchThread({ platform: 'slack', workspaceId: body.team_id ?? e.team ?? '', channelId: e.channel, threadId: e.thread_ts })
        : false;
    const intent = parseMessageEvent(body, {
      botUserId,
      botId,
      allowBots: env.CIR_ALLOW_BOTS,
      followup: chat.followupWithoutMention() ? 'any' : 'mention',
      isResearchThread: () => researchThread,
    });
    if (intent.kind === 'ignore') {
      logger.trace({ reason: intent.reason, eventId: body.event_id }, 'slack: event ignored');
      return;
    }
    // After Bolt verified the signature. Retries and the app_mention/message twins share the key.
    // A research request is deduped by the chat layer with its session (submit answers 'duplicate'),
    // so a crash before the session was recorded leaves Slack's retry to be processed, not dropped.
    // A twin slipping in between this check and submit() is caught there (in memory, then by the
    // store's unique key).
    const duplicate =
      intent.kind === 'research'
        ? await chat.alreadySubmitted('slack', intent.dedupeKey)
        : !(await chat.markEventSeen('slack', intent.dedupeKey));
    if (duplicate) {
      logger.debug({ key: intent.dedupeKey, eventId: body.event_id }, 'slack: duplicate delivery dropped');
      return;
    }
    switch (intent.kind) {
      case 'help':
        await postInThread(intent.ref, helpText(botUserId));
        return;
      case 'stop': {
        // Slack cannot vouch for a moderator without an extra scope: only the asker may stop.
        // A refusal is posted in the thread by the chat layer.
        const outcome = await chat.cancel(intent.ref, intent.userId, { moderator: false });
        if (outcome === 'inactive') await postInThread(intent.ref, 'Nothing is running in this thread.');
        return;
      }
      case 'research':
        // A refusal (quota, capacity, busy) is posted in the thread by the chat layer.
        await chat.submit(
          { ...intent.ref, userId: intent.userId, question: intent.question, sourceEventId: intent.dedupeKey },
          researchSurface(intent.ref, intent.userId, intent.dm),
          submitOptions(intent.ref.workspaceId),
        );
        return;
    }
  };

  app.event('app_mention', async ({ body }) => onMessage(body as unknown as SlackEventBody));
  app.event('message', async ({ body }) => onMessage(body as unknown as SlackEventBody));
  // The agent messaging experience: opening the app's Messages tab shows suggested prompts
  // (no thread_ts: it belongs to the legacy assistant experience, where it would silently fail).
  app.event('app_home_opened', async ({ event }) => {
    const channel = running ? agentOpened(event as unknown as AppHomeOpenedEvent) : null;
    if (!channel) return;
    await client.assistant.threads
      .setSuggestedPrompts({ channel_id: channel, title: SUGGESTED_PROMPTS.title, prompts: [...SUGGESTED_PROMPTS.prompts] })
      .catch((err: unknown) => logger.debug({ err: slackErrorCode(err) }, 'slack: suggested prompts not set'));
  });

  const actionIds = { stop: ACTION_STOP, retry: ACTION_RETRY, up: ACTION_FEEDBACK_UP, down: ACTION_FEEDBACK_DOWN, feedback: ACTION_FEEDBACK };
  app.action(new RegExp(`^(${Object.values(actionIds).join('|')})$`), async ({ ack, body }) => {
    await ack();
    const intent = parseAction(body as unknown as SlackActionBody, actionIds);
    if (intent.kind === 'stop') {
      // Only the asker may stop (see above); the chat layer tells anyone else so in the thread.
      let outcome = intent.sessionId ? await chat.cancelSession(intent.sessionId, intent.userId, { moderator: false }) : 'inactive';
      if (outcome === 'inactive' && intent.ref !== null) outcome = await chat.cancel(intent.ref, intent.userId, { moderator: false });
      logger.info({ sessionId: intent.sessionId, by: intent.userId, outcome }, 'slack: stop pressed');
    } else if (intent.kind === 'retry') {
      const ref = (await chat.view(intent.sessionId))?.ref;
      if (!ref) return void logger.info({ sessionId: intent.sessionId }, 'slack: retry of an unknown session');
      // The new research (or why it cannot start) shows in the same thread.
      const outcome = await chat.retry(intent.sessionId, intent.userId, researchSurface(ref, intent.userId), submitOptions(ref.workspaceId));
      logger.info({ sessionId: intent.sessionId, by: intent.userId, accepted: outcome.accepted }, 'slack: retry pressed');
      // Asked again: the old status keeps its text but loses the button.
      const old = intent.message;
      if (outcome.accepted && intent.channelId && old?.ts && old.blocks)
        await client.chat
          .update({ channel: intent.channelId, ts: old.ts, text: old.text ?? '', blocks: old.blocks.filter((b) => b.type !== 'actions') as never })
          .catch((err: unknown) => logger.debug({ err: slackErrorCode(err) }, 'slack: retry button not removed'));
    } else if (intent.kind === 'feedback') {
      const stored = await chat.recordFeedback(intent.sessionId, intent.userId, intent.value);
      if (stored && intent.channelId) {
        await client.chat
          .postEphemeral({
            channel: intent.channelId,
            user: intent.userId,
            ...(intent.threadTs ? { thread_ts: intent.threadTs } : {}),
            text: 'Thanks, your feedback is stored with this research.',
          })
          .catch((err: unknown) => logger.debug({ err: slackErrorCode(err) }, 'slack: feedback receipt not shown'));
      }
    }
  });

  // Buttons we did not make (an old message, another integration): acknowledge, do nothing.
  app.action(/^(?!cir_)/, async ({ ack }) => {
    await ack();
  });

  // The manifest declares no slash commands; should one be configured anyway, answer instead of timing out.
  app.command(/.*/, async ({ ack }) => {
    await ack({ response_type: 'ephemeral', text: `Mention me with your question instead: <@${botUserId}> …` });
  });

  app.error(async (err) => {
    logger.error({ err: { message: err.message, code: (err as { code?: string }).code } }, 'slack: handler failed');
  });

  if (receiver instanceof SocketModeReceiver) {
    receiver.client.on('connected', () => (connected = true));
    receiver.client.on('disconnected', () => (connected = false));
    receiver.client.on('reconnecting', () => (connected = false));
  }

  const routes: HttpRoute[] =
    receiver instanceof HTTPReceiver
      ? [
          {
            method: 'POST',
            path: SLACK_EVENTS_PATH,
            handle: (req, res) => {
              if (!running) {
                res.writeHead(503, { 'content-type': 'text/plain' }).end('not accepting events');
                return;
              }
              receiver.requestListener(req, res);
            },
          },
        ]
      : [];

  const identify = async () => {
    let auth;
    try {
      auth = await client.auth.test();
    } catch (err) {
      throw new Error(`Slack rejected SLACK_BOT_TOKEN (${slackErrorCode(err)}): check the Bot User OAuth Token`, { cause: err });
    }
    botUserId = String(auth.user_id ?? '');
    botId = auth.bot_id ? String(auth.bot_id) : undefined;
    return auth;
  };

  return {
    name: 'slack',
    routes,
    async connectRest() {
      const auth = await identify();
      logger.info({ botUserId, team: auth.team_id }, 'slack: web api ready (no event connection)');
    },
    async start() {
      try {
        await app.init(); // auth.test: checks the token
      } catch (err) {
        throw new Error(`Slack rejected SLACK_BOT_TOKEN (${slackErrorCode(err)}): check the Bot User OAuth Token`, { cause: err });
      }
      const auth = await identify();
      running = true;
      if (socketMode) {
        try {
          await app.start();
        } catch (err) {
          running = false;
          throw new Error(`Slack Socket Mode could not connect (check SLACK_APP_TOKEN): ${(err as Error).message}`, { cause: err });
        }
      } else connected = true;
      logger.info({ botUserId, team: auth.team_id, mode: socketMode ? 'socket' : 'http' }, 'slack: ready');
    },
    async stop() {
      const wasSocket = socketMode && running;
      running = false;
      // Also while reconnecting: otherwise the Socket Mode client would keep retrying forever.
      if (wasSocket) await app.stop().catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'slack: socket stop failed'));
      connected = false;
    },
    status() {
      return {
        connected: connected && running,
        detail: socketMode ? 'socket mode' : `http events at POST ${SLACK_EVENTS_PATH}`,
      };
    },
    surface(ref: ThreadRef, userId = '') {
      // With the asker known (a worker rendering a queued session), it is a full research surface.
      return userId ? researchSurface(ref, userId) : new SlackThreadSurface(surfaceCtx, { ref, userId: '', dm: ref.channelId.startsWith('D') });
    },
    onRateLimit(listener) {
      rateLimitListeners.push(listener);
    },
  };
}

/** Bolt and the Web API log through this: our pino logger, one level quieter for their chatter. */
function toBoltLogger(logger: Logger): BoltLogger {
  const fmt = (msg: unknown[]) => msg.map((m) => (typeof m === 'string' ? m : JSON.stringify(m))).join(' ');
  return {
    debug: (...msg) => logger.trace(fmt(msg)),
    info: (...msg) => logger.debug(fmt(msg)),
    warn: (...msg) => logger.warn(fmt(msg)),
    error: (...msg) => logger.error(fmt(msg)),
    setLevel: () => undefined,
    getLevel: () => LogLevel.INFO,
    setName: () => undefined,
  };
}
