// Gateway events in, chat-layer calls out: /research, mentions, follow-ups, Stop and feedback
// buttons. Each research gets a surface in a thread (or, failing that, in the channel or DM);
// which permission is missing is told to the user when the bot cannot post at all.
import {
  MessageFlags,
  PermissionFlagsBits,
  Routes,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type Client,
  type Interaction,
  type Message,
  type REST,
} from 'discord.js';
import type { ChatService } from '../../chat/service.ts';
import type { ResearchRequest } from '../../chat/types.ts';
import type { Logger } from '../../util/log.ts';
import { classifyMessage, type Decision, type MessageFacts, type Where } from './classify.ts';
import { parseCustomId } from './components.ts';
import { RESEARCH_COMMAND } from './command.ts';
import { discordCode, isAccessError, isThreadRefusal, missingPermissionsText, NEEDED, noThreadText, threadRefusalReason } from './errors.ts';
import { DISCORD_ERRORS, DISCORD_LIMITS } from './limits.ts';
import { helpText, starterText, threadName } from './render.ts';
import { DiscordThreadSurface, type DiscordWriter } from './surface.ts';

export interface HandlerContext {
  client: Client;
  /** The adapter's own REST client (bot token); it outlives the gateway client on shutdown. */
  rest: REST;
  chat: ChatService;
  writer: DiscordWriter;
  logger: Logger;
  allowBots: boolean;
  editIntervalMs: number;
  typingRefreshMs: number;
}

type Target = { where: Where; channelId: string; replyTo?: string; notice?: string };

export function createHandlers(ctx: HandlerContext) {
  const { client, chat, writer, logger, rest } = ctx;

  const newSurface = (channelId: string, replyTo?: string) =>
    new DiscordThreadSurface({ writer, channelId, replyTo, logger, typingRefreshMs: ctx.typingRefreshMs });
  const paceOptions = (channelId: string) => ({ minIntervalMs: ctx.editIntervalMs, pacingKey: `discord:${channelId}` });

  /** Opens the surface at `target`; a thread the bot cannot write in falls back to its channel. */
  async function prepare(target: Target, parentFallback: Target | null): Promise<DiscordThreadSurface | { missing: string[] }> {
    const surface = newSurface(target.channelId, target.replyTo);
    try {
      if (target.notice) await surface.notify(target.notice);
      await surface.open();
      return surface;
    } catch (err) {
      if (!isAccessError(err)) throw err;
      const inThread = target.where.threadId !== '' && target.channelId === target.where.threadId;
      logger.warn({ err, channelId: target.channelId }, 'discord: cannot post here');
      if (inThread && parentFallback) {
        return prepare({ ...parentFallback, notice: noThreadText(`missing the **${NEEDED.sendInThreads}** permission`) }, null);
      }
      if (inThread) return { missing: [NEEDED.sendInThreads] };
      return { missing: discordCode(err) === DISCORD_ERRORS.missingPermissions ? [NEEDED.send] : [NEEDED.view, NEEDED.send] };
    }
  }

  /** A refusal (quota, capacity, busy) replaces the "Starting…" message: the chat layer notifies it. */
  async function submit(req: ResearchRequest, surface: DiscordThreadSurface): Promise<void> {
    try {
      await chat.submit(req, surface, paceOptions(surface.channelId));
    } catch (err) {
      // Never leave a "Starting…" message behind.
      await surface.notify('Something went wrong on my side; please try again.').catch(() => {});
      throw err;
    }
  }

  /** Tells a user privately what is missing when the bot cannot post where they asked. */
  async function tellByDm(userId: string, text: string): Promise<void> {
    try {
      const dm = (await rest.post(Routes.userChannels(), { body: { recipient_id: userId } })) as { id: string };
      await writer.post(dm.id, { content: text });
    } catch (err) {
      logger.warn({ err, userId }, 'discord: could not DM the user about missing permissions');
    }
  }

  async function createThread(channelId: string, messageId: string, question: string): Promise<string> {
    try {
      const thread = (await rest.post(Routes.threads(channelId, messageId), {
        body: { name: threadName(question), auto_archive_duration: DISCORD_LIMITS.threadAutoArchiveMin },
        reason: 'research thread',
      })) as { id: string };
      return thread.id;
    } catch (err) {
      // 160004: the message already has a thread (a replayed event, or someone opened one). A thread
      // started from a message has that message's id ("Start Thread from Message"): research there.
      if (discordCode(err) !== DISCORD_ERRORS.threadAlreadyCreated) throw err;
      logger.info({ channelId, messageId }, 'discord: the message already has a thread; using it');
      return messageId;
    }
  }

  /** Where to research for a new question in a channel: a thread on `messageId`, else the channel. */
  async function channelTargets(where: Where, messageId: string, question: string): Promise<[Target, Target | null]> {
    const channelTarget: Target = { where: { ...where, threadId: '' }, channelId: where.channelId, replyTo: messageId };
    try {
      const threadId = await createThread(where.channelId, messageId, question);
      return [{ where: { ...where, threadId }, channelId: threadId }, channelTarget];
    } catch (err) {
      if (!isThreadRefusal(err)) throw err;
      logger.warn({ err, channelId: where.channelId }, 'discord: cannot create a thread; answering in the channel');
      return [{ ...channelTarget, notice: noThreadText(threadRefusalReason(err)) }, null];
    }
  }

  // ---- stopping ------------------------------------------------------------------------------

  /** Whether the author may stop anyone's research here (the chat layer decides with this). */
  function canModerate(message: Message): boolean {
    try {
      if (!message.inGuild() || !message.member) return false;
      return message.channel.permissionsFor(message.member)?.has(PermissionFlagsBits.ManageMessages) ?? false;
    } catch {
      return false;
    }
  }

  // ---- messages ------------------------------------------------------------------------------

  async function facts(message: Message): Promise<MessageFacts> {
    // Role object: a bot's managed role carries tags.bot_id (Permissions docs, "Role Tags").
    const botRole = message.guild?.roles.botRoleFor(client.user!.id)?.id ?? null;
    let channel = message.channel;
    if (channel.isThread() && !channel.parentId) channel = (await client.channels.fetch(channel.id)) as typeof channel;
    return {
      id: message.id,
      type: message.type,
      authorId: message.author.id,
      authorIsBot: message.author.bot || message.webhookId !== null,
      content: message.content,
      // The bot's managed role (what mention autocomplete often picks) counts as the bot.
      mentionsBot: message.mentions.users.has(client.user!.id) || (botRole !== null && message.mentions.roles.has(botRole)),
      botRoleId: botRole,
      guildId: message.guildId,
      channelId: message.channelId,
      channelKind: channel.isDMBased() ? 'dm' : channel.isThread() ? 'thread' : 'channel',
      parentId: channel.isThread() ? channel.parentId : null,
    };
  }

  /** Research messages between the replay check and submit() (their thread is being opened). */
  const inFlight = new Set<string>();

  async function onMessage(message: Message): Promise<void> {
    if (message.author.id === client.user?.id) return;
    const f = await facts(message);
    // Asked of the store before classifying (which is synchronous), only where it can matter.
    const followups = chat.followupWithoutMention();
    const researchThread =
      followups && f.channelKind === 'thread' && !f.mentionsBot
        ? await chat.isResearchThread({ platform: 'discord', workspaceId: f.guildId ?? '', channelId: f.parentId ?? '', threadId: f.channelId })
        : false;
    const d = classifyMessage(f, {
      botId: client.user!.id,
      allowBots: ctx.allowBots,
      followupWithoutMention: followups,
      isResearchThread: () => researchThread,
    });
    if (d.kind === 'ignore') return;
    // A replayed research request is recognised by the chat layer from its session (sourceEventId);
    // asking before opening a thread avoids an empty one. Help and "stop" use the seen-event list.
    const replayed =
      d.kind === 'help' || d.kind === 'stop'
        ? !(await chat.markEventSeen('discord', `message:${message.id}`))
        : inFlight.has(message.id) || (await chat.alreadySubmitted('discord', message.id));
    if (replayed) return;
    if (d.kind !== 'help' && d.kind !== 'stop') {
      if (inFlight.has(message.id)) return; // a replay that arrived while the store was asked
      // Until submit() records it, a replay arriving meanwhile is recognised here.
      inFlight.add(message.id);
      try {
        await research(message, d);
      } finally {
        inFlight.delete(message.id);
      }
      return;
    }
    const userId = message.author.id;
    const postTo = d.where.threadId || d.where.channelId;

    if (d.kind === 'help') {
      await writer.post(postTo, { content: helpText(), message_reference: { message_id: d.replyTo, fail_if_not_exists: false } });
      return;
    }
    if (d.kind === 'stop') {
      // Someone else is refused in the thread by the chat layer.
      const outcome = await chat.cancel({ platform: 'discord', ...d.where }, userId, { moderator: canModerate(message) });
      const text = outcome === 'inactive' ? 'Nothing is running here.' : null;
      if (text) await writer.post(postTo, { content: text, message_reference: { message_id: message.id, fail_if_not_exists: false } });
    }
  }

  async function research(message: Message, d: Extract<Decision, { kind: 'open' | 'ask' }>): Promise<void> {
    const userId = message.author.id;
    const postTo = d.where.threadId || d.where.channelId;
    let targets: [Target, Target | null];
    if (d.kind === 'open') targets = await channelTargets(d.where, message.id, d.question);
    else targets = [{ where: d.where, channelId: postTo }, null];
    const prepared = await prepare(...targets);
    if (!(prepared instanceof DiscordThreadSurface)) {
      await tellByDm(userId, missingPermissionsText(prepared.missing, `<#${d.where.channelId}>`));
      return;
    }
    await submit(
      { platform: 'discord', ...whereOf(prepared, targets), userId, question: d.question, sourceEventId: message.id },
      prepared,
    );
  }

  // ---- interactions --------------------------------------------------------------------------

  async function onResearch(i: ChatInputCommandInteraction): Promise<void> {
    const question = (i.options.getString('question') ?? '').trim();
    if (!question) {
      await i.reply({ content: helpText(), flags: MessageFlags.Ephemeral });
      return;
    }
    const perms = i.appPermissions;
    if (i.inGuild() && perms && !perms.has(PermissionFlagsBits.ViewChannel)) {
      await i.reply({ content: missingPermissionsText([NEEDED.view]), flags: MessageFlags.Ephemeral });
      return;
    }
    // Acknowledge at once (3 s limit); the reply is the thread's starter message.
    const res = await i.reply({ content: starterText(question), withResponse: true, allowedMentions: { parse: [] } });
    const starterId = res.resource?.message?.id;
    const channel = i.channel;
    const ws = i.guildId ?? '';
    let targets: [Target, Target | null];
    if (!i.inGuild() || channel?.isDMBased()) targets = [{ where: { workspaceId: '', channelId: i.channelId, threadId: '' }, channelId: i.channelId }, null];
    else if (channel?.isThread())
      targets = [{ where: { workspaceId: ws, channelId: channel.parentId ?? '', threadId: channel.id }, channelId: channel.id }, null];
    else if (starterId) targets = await channelTargets({ workspaceId: ws, channelId: i.channelId, threadId: '' }, starterId, question);
    else targets = [{ where: { workspaceId: ws, channelId: i.channelId, threadId: '' }, channelId: i.channelId }, null];

    const prepared = await prepare(...targets);
    if (!(prepared instanceof DiscordThreadSurface)) {
      // The interaction token is still fresh here: say so on the reply itself.
      await i.editReply({ content: `${starterText(question)}\n\n⚠️ ${missingPermissionsText(prepared.missing)}`, allowedMentions: { parse: [] } });
      return;
    }
    await submit(
      { platform: 'discord', ...whereOf(prepared, targets), userId: i.user.id, question, sourceEventId: i.id },
      prepared,
    );
  }

  async function onButton(i: ButtonInteraction): Promise<void> {
    const action = parseCustomId(i.customId);
    if (!action) return;
    if (action.kind === 'stop') {
      // Acknowledged first: stopping waits for the engine, and a refusal is posted in the thread.
      await i.deferReply({ flags: MessageFlags.Ephemeral });
      const moderator = i.memberPermissions?.has(PermissionFlagsBits.ManageMessages) ?? false;
      const outcome = await chat.cancelSession(action.sessionId, i.user.id, { moderator });
      const receipt = { stopped: 'Stopped.', inactive: 'That research is not running any more.', refused: 'You cannot stop this research (see the thread).' };
      await i.editReply({ content: receipt[outcome], allowedMentions: { parse: [] } });
      return;
    }
    if (action.kind === 'retry') {
      // Acknowledged at once; what happens next (the new research, or why not) shows in the thread.
      await i.deferUpdate();
      const ref = (await chat.view(action.sessionId))?.ref;
      const channelId = ref ? ref.threadId || ref.channelId : i.channelId;
      const outcome = await chat.retry(action.sessionId, i.user.id, newSurface(channelId), paceOptions(channelId));
      if (outcome.accepted) await i.editReply({ components: [] }).catch((err: unknown) => logger.debug({ err }, 'discord: retry button not removed'));
      return;
    }
    const ok = await chat.recordFeedback(action.sessionId, i.user.id, action.value);
    await i.reply({ content: ok ? 'Thanks for the feedback!' : 'I no longer know that answer.', flags: MessageFlags.Ephemeral });
  }

  async function onInteraction(i: Interaction): Promise<void> {
    if (!i.isChatInputCommand() && !i.isButton()) return;
    if (!(await chat.markEventSeen('discord', `interaction:${i.id}`))) return;
    if (i.isChatInputCommand() && i.commandName === RESEARCH_COMMAND.name) await onResearch(i);
    else if (i.isButton()) await onButton(i);
  }

  return { onMessage, onInteraction };
}

/** The ref of where the surface ended up (a fallback moves a thread's research into its channel). */
function whereOf(surface: DiscordThreadSurface, targets: [Target, Target | null]): Where {
  const [first, fallback] = targets;
  if (surface.channelId === first.channelId || !fallback) return first.where;
  return fallback.where;
}
