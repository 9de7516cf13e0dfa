// Shared setup for the Discord integration tests: the fake Discord, the real chat service (in-memory
// store) and the real adapter, wired by URL only. The engine is the tests' scripted one
// (test/fakes/scripted-engine.ts).
import { createChatService, type ChatService } from '../../src/chat/service.ts';
import { DEFAULT_CHAT_LIMITS, type ChatLimits } from '../../src/chat/limits.ts';
import { openSessionStore, type SessionStore } from '../../src/chat/store.ts';
import { parseConfig } from '../../src/config.ts';
import type { ResearchEngine } from '../../src/engine/events.ts';
import { silentLogger } from '../../src/util/log.ts';
import { createDiscordAdapter } from '../../src/platforms/discord/index.ts';
import type { PlatformAdapter } from '../../src/platforms/types.ts';
import { startFakeDiscord, type FakeDiscord, type FakeDiscordOptions, type StoredMessage } from '../fakes/discord.ts';

export interface Rig {
  fake: FakeDiscord;
  chat: ChatService;
  adapter: PlatformAdapter;
  close(): Promise<void>;
}

export async function startRig(o: {
  engine: ResearchEngine;
  env?: Record<string, string>;
  editIntervalMs?: number;
  typingRefreshMs?: number;
  beforeStart?: (fake: FakeDiscord) => void;
  /** A store written by "a previous process" (closed with the rig); default a new in-memory one. */
  store?: SessionStore;
  limits?: Partial<ChatLimits>;
  fakeOptions?: FakeDiscordOptions;
}): Promise<Rig> {
  const fake = await startFakeDiscord(o.fakeOptions);
  o.beforeStart?.(fake);
  const store = o.store ?? openSessionStore(':memory:');
  const chat = createChatService({ engine: o.engine, store, limits: { ...DEFAULT_CHAT_LIMITS, ...o.limits }, logger: silentLogger });
  const env = parseConfig({ DISCORD_TOKEN: fake.token, DISCORD_API_URL: fake.apiUrl, ...o.env });
  const adapter = createDiscordAdapter({ env, chat, logger: silentLogger }, { editIntervalMs: o.editIntervalMs ?? 50, typingRefreshMs: o.typingRefreshMs });
  await adapter.start();
  return {
    fake,
    chat,
    adapter,
    async close() {
      await chat.shutdown(0);
      await adapter.stop();
      await fake.close();
      store.close();
    },
  };
}

/** A promise with its resolver, to hold a scripted engine at a step. */
export function latch(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

/** Bot-authored messages of a channel. */
export function botMessages(fake: FakeDiscord, channelId: string): StoredMessage[] {
  return fake.channelMessages(channelId).filter((m) => m.author?.id === fake.applicationId);
}

/** Waits until a channel holds a bot message containing `text`. */
export function waitForBotText(fake: FakeDiscord, channelId: string, text: string, timeoutMs?: number): Promise<StoredMessage> {
  return fake.waitFor(() => botMessages(fake, channelId).find((m) => m.content.includes(text)), `"${text}" in ${channelId}`, timeoutMs);
}
