// Test harness: the real Slack adapter and the real chat service against the fake Slack
// (test/fakes/slack.ts), with its HTTP route mounted on a plain node:http server the way the
// bot's HTTP server mounts it. The research engine is given by each test (usually the scripted
// one, test/fakes/scripted-engine.ts).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chatLimitsFromEnv, type ChatLimits } from '../../src/chat/limits.ts';
import { createChatService, type ChatService } from '../../src/chat/service.ts';
import { openSessionStore, type SessionStore } from '../../src/chat/store.ts';
import { parseConfig } from '../../src/config.ts';
import type { ResearchEngine } from '../../src/engine/events.ts';
import { silentLogger } from '../../src/util/log.ts';
import { createSlackAdapter, type SlackAdapterDeps } from '../../src/platforms/slack/index.ts';
import type { PlatformAdapter } from '../../src/platforms/types.ts';
import { type FakeSlack, type FakeSlackOptions, postSignedEvent, startFakeSlack } from '../fakes/slack.ts';

export const SIGNING_SECRET = 'test-signing-secret';

export interface Harness {
  fake: FakeSlack;
  chat: ChatService;
  store: SessionStore;
  adapter: PlatformAdapter;
  /** POST /slack/events on the local HTTP server (HTTP mode). */
  eventsUrl: string;
  /** Posts a signed event body; returns the HTTP status. */
  post(payload: unknown, o?: { retryNum?: number; secret?: string; timestamp?: number; form?: boolean }): Promise<number>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  engine: ResearchEngine;
  socketMode?: boolean;
  streaming?: boolean;
  env?: Record<string, string>;
  limits?: Partial<ChatLimits>;
  /** A store written by "a previous process" (closed with the harness); default a new in-memory one. */
  store?: SessionStore;
  /** Fake Slack behaviour (stream lifetime, status timeout, rate tiers). */
  fake?: FakeSlackOptions;
  /** Adapter timing (stream rotation, status refresh). */
  timing?: NonNullable<SlackAdapterDeps['options']>['timing'];
}

export async function startHarness(o: HarnessOptions): Promise<Harness> {
  const fake = await startFakeSlack({ streaming: o.streaming ?? true, ...o.fake });
  const store = o.store ?? openSessionStore(':memory:');
  const env = parseConfig({
    SLACK_BOT_TOKEN: fake.botToken,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: fake.apiUrl,
    ...(o.socketMode ? { SLACK_APP_TOKEN: fake.appToken } : {}),
    ...o.env,
  });
  const chat = createChatService({
    engine: o.engine,
    store,
    limits: { ...chatLimitsFromEnv(env), ...o.limits },
    logger: silentLogger,
  });
  const adapter = createSlackAdapter({
    env,
    chat,
    logger: silentLogger,
    options: { renderIntervalMs: 30, retryConfig: { retries: 4, factor: 1, minTimeout: 20, maxTimeout: 50 }, timing: o.timing },
  });
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const route = adapter.routes.find((r) => r.path === path && r.method === req.method);
    if (!route) return res.writeHead(404).end();
    void route.handle(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const eventsUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;
  await adapter.start();
  return {
    fake,
    chat,
    store,
    adapter,
    eventsUrl,
    async post(payload, po = {}) {
      return (await postSignedEvent(eventsUrl, SIGNING_SECRET, payload, po)).status;
    },
    async close() {
      await adapter.stop();
      await chat.shutdown(0);
      store.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await fake.close();
    },
  };
}

/** An event_callback body as Slack sends it. */
export function eventBody(event: Record<string, unknown>, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    token: 'legacy-verification-token',
    team_id: 'T00FAKE00AA',
    api_app_id: 'A00FAKEAPP01',
    type: 'event_callback',
    event_id: `Ev${Math.random().toString(36).slice(2, 12).toUpperCase()}`,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [{ user_id: 'U00FAKEBOT01', is_bot: true }],
    event,
    ...over,
  };
}

let tsSeq = 0;
export function newTs(): string {
  return `1767300000.${String(++tsSeq).padStart(6, '0')}`;
}

export function mention(text: string, o: { ts?: string; thread_ts?: string; channel?: string; user?: string } = {}) {
  const ts = o.ts ?? newTs();
  return eventBody({
    type: 'app_mention',
    user: o.user ?? 'U00FAKEUSER1',
    text: `<@U00FAKEBOT01> ${text}`,
    ts,
    ...(o.thread_ts ? { thread_ts: o.thread_ts } : {}),
    channel: o.channel ?? 'C00FAKECHAN1',
    event_ts: ts,
  });
}
