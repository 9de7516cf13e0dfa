// What an incoming gateway message asks of the bot, as a pure function of plain facts about it
// (so the rules are testable without a gateway). The handler turns the decision into actions.

export interface MessageFacts {
  id: string;
  /** 0 default, 19 reply; every other type (system messages, thread starters...) is ignored. */
  type: number;
  authorId: string;
  authorIsBot: boolean;
  content: string;
  /** The bot is mentioned: as a user, or through its managed role (not @everyone/@here). */
  mentionsBot: boolean;
  /** The bot's managed role in this guild (its mentions are stripped like the bot's). */
  botRoleId?: string | null;
  guildId: string | null;
  channelId: string;
  /** 'thread' for public/private/announcement threads. */
  channelKind: 'dm' | 'thread' | 'channel';
  /** The thread's parent channel. */
  parentId: string | null;
}

export interface ClassifyOptions {
  botId: string;
  allowBots: boolean;
  /** CIR_FOLLOWUP=any: every message in a research thread is a follow-up, not only mentions. */
  followupWithoutMention: boolean;
  /** Whether the bot researched in this thread before. */
  isResearchThread: (ref: { workspaceId: string; channelId: string; threadId: string }) => boolean;
}

export type Where = { workspaceId: string; channelId: string; threadId: string };

export type Decision =
  | { kind: 'ignore'; reason: string }
  | { kind: 'help'; where: Where; replyTo: string }
  /** A new research in a channel: open a thread on the message. */
  | { kind: 'open'; question: string; where: Where }
  /** A research or follow-up in an existing place (thread or DM). */
  | { kind: 'ask'; question: string; where: Where }
  | { kind: 'stop'; where: Where };

const STOP = /^(stop|cancel|abort)[.!]*$/i;

/** The content without mentions of the bot or of its managed role (and leading/trailing space). */
export function stripBotMention(content: string, botId: string, botRoleId?: string | null): string {
  const role = botRoleId ? `|<@&${botRoleId}>` : '';
  return content.replace(new RegExp(`<@!?${botId}>${role}`, 'g'), ' ').replace(/\s+/g, ' ').trim();
}

export function classifyMessage(m: MessageFacts, o: ClassifyOptions): Decision {
  if (m.authorId === o.botId) return { kind: 'ignore', reason: 'own message' };
  if (m.authorIsBot && !o.allowBots) return { kind: 'ignore', reason: 'bot author' };
  if (m.type !== 0 && m.type !== 19) return { kind: 'ignore', reason: `message type ${m.type}` };
  const text = stripBotMention(m.content, o.botId, m.botRoleId);
  const ws = m.guildId ?? '';

  if (m.channelKind === 'dm') {
    const where = { workspaceId: '', channelId: m.channelId, threadId: '' };
    if (!text) return { kind: 'help', where, replyTo: m.id };
    if (STOP.test(text)) return { kind: 'stop', where };
    return { kind: 'ask', question: text, where };
  }

  if (m.channelKind === 'thread') {
    const where = { workspaceId: ws, channelId: m.parentId ?? '', threadId: m.channelId };
    const followup = !m.mentionsBot && o.followupWithoutMention && o.isResearchThread(where);
    if (!m.mentionsBot && !followup) return { kind: 'ignore', reason: 'not addressed to the bot' };
    if (!text) return m.mentionsBot ? { kind: 'help', where, replyTo: m.id } : { kind: 'ignore', reason: 'empty' };
    if (STOP.test(text)) return { kind: 'stop', where };
    return { kind: 'ask', question: text, where };
  }

  // A plain channel: only mentions count (a channel is never a follow-up without one).
  if (!m.mentionsBot) return { kind: 'ignore', reason: 'not addressed to the bot' };
  const where = { workspaceId: ws, channelId: m.channelId, threadId: '' };
  if (!text) return { kind: 'help', where, replyTo: m.id };
  // Stops research answered in the channel itself (when no thread could be opened there).
  if (STOP.test(text)) return { kind: 'stop', where };
  return { kind: 'open', question: text, where };
}
