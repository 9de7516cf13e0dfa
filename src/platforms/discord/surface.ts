// One research thread's presence on Discord: a live status message edited in place (paced by the
// chat layer per channel), frozen messages for finished steps that no longer fit, then the answer,
// its sources and the trace file. Everything goes through the bot token (REST), never through the
// interaction token, which dies after 15 minutes. The chat layer hands over refusals (notify) and
// the trace file (attachTrace). Each render can be retried: the state below records what was
// already delivered, so a retry continues where the failed one stopped.
import { Routes, type REST } from 'discord.js';
import type { ThreadSurface, ThreadView } from '../../chat/types.ts';
import type { Logger } from '../../util/log.ts';
import { feedbackRow, retryRow, stopRow, type ActionRow } from './components.ts';
import { DISCORD_ERRORS, DISCORD_LIMITS } from './limits.ts';
import { discordCode, isAccessError, NEEDED } from './errors.ts';
import { answerMessages, planLive } from './render.ts';

/** Message flags: suppress embeds (link previews). */
const SUPPRESS_EMBEDS = 1 << 2;

export interface MessageBody {
  content?: string;
  components?: ActionRow[];
  flags?: number;
  allowed_mentions?: { parse: string[]; users?: string[]; replied_user?: boolean };
  message_reference?: { message_id: string; fail_if_not_exists: boolean };
  attachments?: { id: number; filename: string; description?: string }[];
}

/** The REST calls a surface needs, with the bot token. */
export interface DiscordWriter {
  post(channelId: string, body: MessageBody, files?: { name: string; data: Buffer }[]): Promise<{ id: string }>;
  edit(channelId: string, messageId: string, body: MessageBody): Promise<void>;
  /** "Trigger Typing Indicator": shows "cir-bot is typing…" for 10 s or until the bot posts. */
  typing(channelId: string): Promise<void>;
}

// Every message: no pings and no link previews, unless a call asks otherwise (the answer pings its asker).
const NO_PINGS = { parse: [] as string[], replied_user: false };

export function restWriter(rest: REST): DiscordWriter {
  return {
    async post(channelId, body, files) {
      const send = (b: MessageBody) =>
        rest.post(Routes.channelMessages(channelId), {
          body: { allowed_mentions: NO_PINGS, flags: SUPPRESS_EMBEDS, ...b },
          ...(files?.length ? { files: files.map((f) => ({ name: f.name, data: f.data, contentType: 'text/markdown; charset=utf-8' })) } : {}),
        }) as Promise<{ id: string }>;
      try {
        return { id: (await send(body)).id };
      } catch (err) {
        // Replies need Read Message History; without it, post the same message without the reply.
        if (!body.message_reference || discordCode(err) !== DISCORD_ERRORS.replyWithoutHistory) throw err;
        const { message_reference: _drop, ...plain } = body;
        return { id: (await send(plain)).id };
      }
    },
    async edit(channelId, messageId, body) {
      await rest.patch(Routes.channelMessage(channelId, messageId), { body: { allowed_mentions: NO_PINGS, flags: SUPPRESS_EMBEDS, ...body } });
    },
    async typing(channelId) {
      await rest.post(`/channels/${channelId}/typing`);
    },
  };
}

export interface SurfaceOptions {
  writer: DiscordWriter;
  /** Where everything is posted: the thread, or the channel/DM when there is no thread. */
  channelId: string;
  /** The first message replies to this one (answering in a channel without a thread). */
  replyTo?: string;
  logger?: Logger;
  /** Renewal of the typing indicator (default DISCORD_LIMITS.typingRefreshMs). */
  typingRefreshMs?: number;
}

const FINAL = new Set(['done', 'failed', 'cancelled', 'interrupted']);

export class DiscordThreadSurface implements ThreadSurface {
  readonly channelId: string;
  readonly #o: SurfaceOptions;
  #statusId: string | null = null;
  #live: string | null = null;
  /** The buttons under the live message, as JSON (Stop while running, Retry once interrupted). */
  #liveButtons = '';
  /** Still the "Starting…" message of open(): a refusal replaces it rather than following it. */
  #opening = false;
  #frozen = 0;
  #answerPosted = 0;
  #finished = false;
  #replyUsed = false;
  #lock: Promise<unknown> = Promise.resolve();
  /** Renews the typing indicator while the research runs (Discord users expect one). */
  #typingTimer: NodeJS.Timeout | null = null;
  #renderedAt = 0;

  constructor(o: SurfaceOptions) {
    this.#o = o;
    this.channelId = o.channelId;
  }

  /** Posts the status message before research is submitted, so that access errors show at once. */
  open(text = '⏳ **Starting…**'): Promise<void> {
    return this.#serial(async () => {
      if (this.#statusId) return;
      this.#statusId = (await this.#post({ content: text })).id;
      this.#live = text;
      this.#opening = true;
    });
  }

  render(view: ThreadView): Promise<void> {
    return this.#serial(() => this.#render(view));
  }

  /** A warning in the thread: a refusal from the chat layer, or why the bot answers elsewhere. */
  notify(text: string): Promise<void> {
    return this.#serial(async () => {
      const content = `⚠️ ${text}`.slice(0, DISCORD_LIMITS.messageChars);
      if (!this.#opening || !this.#statusId) return void (await this.#post({ content }));
      // A refusal right after open(): the "Starting…" message becomes the refusal.
      await this.#o.writer.edit(this.channelId, this.#statusId, { content, components: [] });
      this.#opening = false;
      this.#statusId = null;
      this.#live = null;
    });
  }

  attachTrace(filename: string, content: string): Promise<void> {
    return this.#serial(async () => {
      try {
        await this.#attach(filename, content);
      } catch (err) {
        // Without Attach Files the answer still stands; say why the file is missing.
        if (!isAccessError(err)) throw err;
        this.#o.logger?.warn({ err, channelId: this.channelId }, 'discord: cannot attach the trace');
        await this.#post({ content: `(I couldn't attach the full trace here: missing the **${NEEDED.attach}** permission.)` });
      }
    });
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(fn, fn);
    this.#lock = run.catch(() => {});
    return run;
  }

  async #post(body: MessageBody, files?: { name: string; data: Buffer }[]): Promise<{ id: string }> {
    const reply = this.#o.replyTo && !this.#replyUsed ? { message_reference: { message_id: this.#o.replyTo, fail_if_not_exists: false } } : {};
    const res = await this.#o.writer.post(this.channelId, { ...reply, ...body }, files);
    this.#replyUsed = true;
    // A message from the bot ends its typing indicator: start it again while still at work.
    if (this.#typingTimer) this.#typeNow();
    return res;
  }

  /** Keeps "is typing…" up until the research ends (or `stop`). */
  #typing(on: boolean): void {
    if (!on) {
      if (this.#typingTimer) clearInterval(this.#typingTimer);
      this.#typingTimer = null;
      return;
    }
    if (this.#typingTimer) return;
    this.#typingTimer = setInterval(() => {
      // No render for this long: the research's final view is not coming (a crash); stop typing.
      if (Date.now() - this.#renderedAt > DISCORD_LIMITS.typingGiveUpMs) this.#typing(false);
      else this.#typeNow();
    }, this.#o.typingRefreshMs ?? DISCORD_LIMITS.typingRefreshMs);
    this.#typingTimer.unref();
    this.#typeNow();
  }

  #typeNow(): void {
    this.#o.writer.typing(this.channelId).catch((err: unknown) => {
      // Purely cosmetic: a channel where the bot may not type keeps working without it.
      this.#o.logger?.debug({ err, channelId: this.channelId }, 'discord: typing indicator not shown');
      this.#typing(false);
    });
  }

  /** Edits message `id` (or posts when there is none, or someone deleted it); returns the message's id. */
  async #editOrPost(id: string | null, body: MessageBody): Promise<string> {
    if (id) {
      try {
        await this.#o.writer.edit(this.channelId, id, body);
        return id;
      } catch (err) {
        if (discordCode(err) !== DISCORD_ERRORS.unknownMessage) throw err;
      }
    }
    return (await this.#post(body)).id;
  }

  async #render(view: ThreadView): Promise<void> {
    if (this.#finished) return;
    this.#opening = false;
    const final = FINAL.has(view.status.state);
    // Typing while the research works (steps, writing); not while it waits in the queue.
    this.#renderedAt = Date.now();
    this.#typing(!final && view.status.state !== 'queued');
    const plan = planLive(view, this.#frozen);

    // Finished steps that no longer fit: the current status message becomes the first frozen
    // message (so they stay above the live one), further ones are posted after it.
    for (const chunk of plan.freeze) {
      await this.#editOrPost(this.#statusId, { content: chunk.content, components: [] });
      this.#statusId = null;
      this.#live = null;
      this.#frozen += chunk.steps;
    }

    const components = !final ? [stopRow(view.sessionId)] : view.status.state === 'interrupted' ? [retryRow(view.sessionId)] : [];
    const buttons = JSON.stringify(components);
    const body: MessageBody = { content: plan.live, components };
    if (!this.#statusId || this.#live !== plan.live || this.#liveButtons !== buttons)
      this.#statusId = await this.#editOrPost(this.#statusId, body);
    this.#live = plan.live;
    this.#liveButtons = buttons;
    if (!final) return;

    const parts = answerMessages(view);
    for (; this.#answerPosted < parts.length; this.#answerPosted++) {
      const i = this.#answerPosted;
      await this.#post({
        content: parts[i],
        flags: SUPPRESS_EMBEDS,
        // The asker is pinged once, when the answer arrives (research can take long).
        allowed_mentions: i === 0 ? { parse: [], users: [view.userId], replied_user: false } : NO_PINGS,
        components: i === parts.length - 1 ? [feedbackRow(view.sessionId)] : [],
      });
    }
    this.#finished = true;
  }

  async #attach(filename: string, content: string): Promise<void> {
    let data = Buffer.from(content, 'utf8');
    const max = DISCORD_LIMITS.attachmentBytes - 1024;
    if (data.length > max) data = Buffer.concat([data.subarray(0, max), Buffer.from('\n\n… (trace truncated at the upload limit)\n')]);
    const name = filename.replace(/[^\w.-]+/g, '_') || 'trace.md';
    await this.#post(
      { content: '📄 Full trace: every step, complete observations and sources.', attachments: [{ id: 0, filename: name }] },
      [{ name, data }],
    );
  }
}
