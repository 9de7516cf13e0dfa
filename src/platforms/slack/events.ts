// Slack Events API payloads -> what the bot should do. Pure functions, no I/O: the adapter asks
// the chat layer and acts on the result.
import type { ThreadRef } from '../../chat/types.ts';

/** The fields of a message / app_mention event we read (Slack sends many more). */
export interface SlackMessageEvent {
  type: string;
  subtype?: string;
  user?: string;
  bot_id?: string;
  text?: string;
  ts?: string;
  thread_ts?: string;
  channel?: string;
  channel_type?: string;
  team?: string;
}

export interface SlackEventBody {
  team_id?: string;
  event_id?: string;
  event: SlackMessageEvent;
}

export interface ParseContext {
  botUserId: string;
  botId?: string;
  allowBots: boolean;
  followup: 'any' | 'mention';
  isResearchThread(ref: ThreadRef): boolean;
}

export type Intent =
  | { kind: 'research'; ref: ThreadRef; userId: string; question: string; dm: boolean; dedupeKey: string; messageTs: string }
  | { kind: 'help'; ref: ThreadRef; userId: string; dm: boolean; dedupeKey: string }
  | { kind: 'stop'; ref: ThreadRef; userId: string; dedupeKey: string }
  | { kind: 'ignore'; reason: string };

/** Message subtypes that are still a person writing to us; every other subtype (edits, deletions, joins, bot posts) is ignored. */
const PERSON_SUBTYPES = new Set(['file_share', 'thread_broadcast']);
const STOP_WORDS = /^(stop|cancel|abort)[.!]?$/i;

/**
 * Decides what one `app_mention` or `message` event asks for. Slack delivers a channel mention
 * twice (app_mention and message.channels, with different event ids): both map to the same
 * dedupeKey (the message's channel and ts), as do Slack's retries of either.
 */
export function parseMessageEvent(body: SlackEventBody, ctx: ParseContext): Intent {
  const e = body.event;
  if (!e || (e.type !== 'app_mention' && e.type !== 'message')) return ignore('not a message');
  const fromBot = Boolean(e.bot_id) || e.subtype === 'bot_message';
  if (e.subtype && !PERSON_SUBTYPES.has(e.subtype) && !(e.subtype === 'bot_message' && ctx.allowBots))
    return ignore(`subtype ${e.subtype}`);
  if ((e.user && e.user === ctx.botUserId) || (ctx.botId && e.bot_id === ctx.botId)) return ignore('own message');
  if (fromBot && !ctx.allowBots) return ignore('bot message');
  // Integrations posting as a bot may have no user: the bot id stands in for one.
  const author = e.user ?? (fromBot ? e.bot_id : undefined);
  if (!author || !e.channel || !e.ts) return ignore('incomplete event');

  const raw = e.text ?? '';
  const mentioned = mentionsUser(raw, ctx.botUserId);
  const dm = e.channel_type === 'im' || (e.channel_type === undefined && e.channel.startsWith('D'));
  const isReply = Boolean(e.thread_ts && e.thread_ts !== e.ts);
  const ref: ThreadRef = {
    platform: 'slack',
    workspaceId: body.team_id ?? e.team ?? '',
    channelId: e.channel,
    threadId: e.thread_ts ?? e.ts,
  };
  const dedupeKey = `msg:${ref.workspaceId}:${e.channel}:${e.ts}`;
  const question = slackTextToPlain(stripMention(raw, ctx.botUserId)).trim();
  const researchThread = isReply && ctx.isResearchThread(ref);

  let addressed: boolean;
  if (e.type === 'app_mention' || mentioned || dm) addressed = true;
  else addressed = researchThread && ctx.followup === 'any';
  if (!addressed) return ignore(isReply ? 'reply in a thread that is not ours' : 'not addressed to the bot');

  if (researchThread && STOP_WORDS.test(question)) return { kind: 'stop', ref, userId: author, dedupeKey };
  if (!question) {
    // A bare follow-up without text (a file, an emoji-only edit) is not worth a help message.
    if (!mentioned && !dm) return ignore('empty follow-up');
    return { kind: 'help', ref, userId: author, dm, dedupeKey };
  }
  return { kind: 'research', ref, userId: author, question, dm, dedupeKey, messageTs: e.ts };
}

function ignore(reason: string): Intent {
  return { kind: 'ignore', reason };
}

export function mentionsUser(text: string, userId: string): boolean {
  return text.includes(`<@${userId}>`) || text.includes(`<@${userId}|`);
}

/** Removes every mention of the bot (`<@U123>` or `<@U123|name>`). */
export function stripMention(text: string, userId: string): string {
  return text.split(new RegExp(`<@${escapeRe(userId)}(?:\\|[^>]*)?>`, 'g')).join(' ').replace(/[ \t]{2,}/g, ' ');
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Slack message markup -> the plain text a person meant: `<url|label>` -> url, `<#C1|name>` ->
 * #name, `<@U1>` -> @U1, `<!here>` -> @here, entities unescaped.
 */
export function slackTextToPlain(text: string): string {
  return text
    .replace(/<((?:https?|mailto):[^|>]+)(?:\|[^>]*)?>/g, '$1')
    .replace(/<#([A-Z0-9]+)(?:\|([^>]*))?>/g, (_m, id: string, name?: string) => `#${name || id}`)
    .replace(/<@([A-Z0-9]+)(?:\|([^>]*))?>/g, (_m, id: string, name?: string) => `@${name || id}`)
    .replace(/<!(here|channel|everyone)(?:\|[^>]*)?>/g, '@$1')
    .replace(/<!subteam\^[A-Z0-9]+(?:\|([^>]*))?>/g, (_m, name?: string) => name || '@group')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** The fields of a block_actions payload we read. */
export interface SlackActionBody {
  type: string;
  user?: { id: string; team_id?: string };
  team?: { id: string } | null;
  channel?: { id: string };
  container?: { channel_id?: string; message_ts?: string; thread_ts?: string };
  message?: { ts?: string; thread_ts?: string; text?: string; blocks?: { type: string }[] };
  actions?: { action_id: string; value?: string }[];
}

export type ActionIntent =
  | { kind: 'stop'; sessionId: string; ref: ThreadRef | null; userId: string }
  | { kind: 'retry'; sessionId: string; userId: string; channelId: string | null; message: SlackActionBody['message'] | null }
  | { kind: 'feedback'; sessionId: string; value: 'up' | 'down'; userId: string; channelId: string | null; threadTs: string | null }
  | { kind: 'ignore'; reason: string };

export function parseAction(body: SlackActionBody, actionIds: { stop: string; retry: string; up: string; down: string; feedback: string }): ActionIntent {
  const action = body.actions?.[0];
  const userId = body.user?.id;
  if (body.type !== 'block_actions' || !action || !userId) return { kind: 'ignore', reason: 'not a block action' };
  const channelId = body.container?.channel_id ?? body.channel?.id ?? null;
  const threadTs = body.container?.thread_ts ?? body.message?.thread_ts ?? null;
  const sessionId = action.value ?? '';
  if (action.action_id === actionIds.stop) {
    const ref: ThreadRef | null =
      channelId && threadTs
        ? { platform: 'slack', workspaceId: body.team?.id ?? body.user?.team_id ?? '', channelId, threadId: threadTs }
        : null;
    return { kind: 'stop', sessionId, ref, userId };
  }
  if (action.action_id === actionIds.retry) {
    if (!sessionId) return { kind: 'ignore', reason: 'retry without a session' };
    return { kind: 'retry', sessionId, userId, channelId, message: body.message ?? null };
  }
  if (action.action_id === actionIds.feedback) {
    // Native feedback buttons: one action id, the value is `up:<session>` or `down:<session>`.
    const m = /^(up|down):(.+)$/.exec(sessionId);
    if (!m) return { kind: 'ignore', reason: 'feedback without a session' };
    return { kind: 'feedback', sessionId: m[2], value: m[1] as 'up' | 'down', userId, channelId, threadTs };
  }
  if (action.action_id === actionIds.up || action.action_id === actionIds.down) {
    if (!sessionId) return { kind: 'ignore', reason: 'feedback without a session' };
    return { kind: 'feedback', sessionId, value: action.action_id === actionIds.up ? 'up' : 'down', userId, channelId, threadTs };
  }
  return { kind: 'ignore', reason: `unknown action ${action.action_id}` };
}

export const helpText = (botUserId: string): string =>
  `Ask me a question by mentioning me, for example <@${botUserId}> _what changed in the latest Node.js release?_ ` +
  'I search the web, show each research step in this thread and answer with numbered sources. ' +
  'Reply in the thread to ask a follow-up; reply `stop` (or press *Stop*) to stop a running research.';

/** Shown at the top of the agent's Messages tab (app_home_opened, tab `messages`): at most four. */
export const SUGGESTED_PROMPTS = {
  title: 'Ask me to research something',
  prompts: [
    { title: 'What changed recently', message: 'What changed in the latest Node.js release, and why does it matter?' },
    { title: 'Compare options', message: 'Compare PostgreSQL and SQLite for a small web app, with sources.' },
    { title: 'Check a claim', message: 'Is it true that the Great Wall of China is visible from space? Cite sources.' },
    { title: 'Explain a topic', message: 'How do volcanoes shape islands? Summarise with sources.' },
  ],
} as const;

/** The fields of an app_home_opened event we read. */
export interface AppHomeOpenedEvent {
  type: string;
  user?: string;
  channel?: string;
  tab?: string;
}

/** The DM channel to set suggested prompts in, when a person opened the agent's Messages tab. */
export function agentOpened(e: AppHomeOpenedEvent): string | null {
  return e.type === 'app_home_opened' && e.tab === 'messages' && e.channel ? e.channel : null;
}
