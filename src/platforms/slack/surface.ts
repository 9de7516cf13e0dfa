// One research thread on Slack: the ThreadSurface the chat layer renders into. A status message
// (state + Stop button) is posted once and edited; code steps stream natively as task_update
// chunks where the workspace supports it, otherwise they live in the status message; the answer
// follows as new message(s); the trace is uploaded as a file when the chat layer hands it over.
import type { WebClient } from '@slack/web-api';
import type { ChatStreamer } from '@slack/web-api';
import type { ThreadRef, ThreadSurface, ThreadView } from '../../chat/types.ts';
import type { Logger } from '../../util/log.ts';
import { type Block, type SlackMessage, type TaskUpdate, isFinished, renderAnswer, renderNote, renderStatus, taskForStep } from './blocks.ts';
import { type SlackProblem, classifySlackError, problemMessage, slackErrorCode, streamingUnsupported } from './errors.ts';
import { SLACK_LIMITS } from './limits.ts';
import { truncate } from './mrkdwn.ts';

/** What all surfaces of one adapter share. */
export interface SlackSurfaceContext {
  client: WebClient;
  logger: Logger;
  botUserId(): string;
  /** Per workspace: false once chat.startStream proved unavailable there. */
  streamingByWorkspace: Map<string, boolean>;
  /** Off: never try native streaming (e.g. for tests of the fallback). */
  streamingEnabled: boolean;
}

export interface SurfaceTarget {
  ref: ThreadRef;
  /** Who asked: recipient of streams and of problem reports by DM. */
  userId: string;
  /** A direct message conversation (assistant.threads.setStatus applies). */
  dm: boolean;
  /** Called once when nothing can be posted in the thread (so the research can be stopped). */
  onUnreachable?: (sessionId: string) => void;
}

type Mode = 'unknown' | 'stream' | 'update';

/** Thrown for failures worth retrying (network, Slack 5xx): the chat layer retries final renders. */
class TransientSlackError extends Error {}

export class SlackThreadSurface implements ThreadSurface {
  readonly #ctx: SlackSurfaceContext;
  readonly #t: SurfaceTarget;
  #statusTs: string | null = null;
  #statusJson = '';
  #mode: Mode = 'unknown';
  #streamer: ChatStreamer | null = null;
  #streamDone = false;
  #tasks = new Map<string, string>();
  #answerSent = 0;
  #dmStatus = false;
  #reported = new Set<string>();
  #chain: Promise<unknown> = Promise.resolve();
  #version = 0;
  /** The thread cannot be posted to (reported to the person): later renders are skipped. */
  #dead = false;
  /** Who asked (from the target, else from the first view): problem reports go to them. */
  #askedBy: string;

  constructor(ctx: SlackSurfaceContext, target: SurfaceTarget) {
    this.#ctx = ctx;
    this.#t = target;
    this.#askedBy = target.userId;
  }

  /** The ts of the status message once posted (tests, logs). */
  get statusTs(): string | null {
    return this.#statusTs;
  }

  get mode(): Mode {
    return this.#mode;
  }

  render(view: ThreadView): Promise<void> {
    const v = ++this.#version;
    return this.#serial(async () => {
      // A newer view is already waiting: skip this one unless it is final.
      if (this.#dead || (v !== this.#version && !isFinished(view.status))) return;
      await this.#render(view);
    });
  }

  notify(text: string): Promise<void> {
    return this.#serial(() => this.#post(renderNote(text), 'notify').then(() => undefined));
  }

  attachTrace(filename: string, content: string): Promise<void> {
    return this.#serial(async () => {
      if (this.#dead) return;
      await this.#guard('files.uploadV2', () =>
        this.#ctx.client.filesUploadV2({
          channel_id: this.#t.ref.channelId,
          thread_ts: this.#t.ref.threadId,
          filename,
          title: filename,
          content,
        }),
      );
    });
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.#chain.then(fn);
    this.#chain = p.catch(() => undefined);
    return p;
  }

  async #render(view: ThreadView): Promise<void> {
    this.#askedBy ||= view.userId;
    const finished = isFinished(view.status);
    const team = this.#t.ref.workspaceId;
    if (this.#mode === 'unknown' && (!this.#ctx.streamingEnabled || this.#ctx.streamingByWorkspace.get(team) === false))
      this.#mode = 'update';
    if (this.#t.dm && !this.#dmStatus && !finished) {
      this.#dmStatus = true;
      await this.#setAssistantStatus('is researching…');
    }

    if (!this.#statusTs) {
      const msg = renderStatus(view, { streamingSteps: this.#mode !== 'update' });
      const ts = await this.#post(msg, 'status');
      if (!ts) {
        this.#dead = true; // reported (or fatal): nothing can be shown in this thread
        if (!finished) this.#t.onUnreachable?.(view.sessionId);
        return;
      }
      this.#statusTs = ts;
      this.#statusJson = JSON.stringify(msg.blocks);
    }

    // Streaming only pays while steps are still coming (a recovered, finished view just edits).
    if (this.#mode === 'unknown' && view.steps.length > 0 && !finished) await this.#startStream(view);
    if (this.#mode === 'stream' && !this.#streamDone) await this.#streamSteps(view, finished);

    const msg = renderStatus(view, { streamingSteps: this.#mode === 'stream' });
    const json = JSON.stringify(msg.blocks);
    if (json !== this.#statusJson) {
      await this.#update(this.#statusTs, msg);
      this.#statusJson = json;
    }

    if (finished) {
      const parts = renderAnswer(view);
      while (this.#answerSent < parts.length) {
        const ts = await this.#post(parts[this.#answerSent], 'answer');
        if (!ts) break;
        this.#answerSent++;
      }
      if (this.#t.dm && this.#dmStatus) {
        this.#dmStatus = false;
        await this.#setAssistantStatus('');
      }
    }
  }

  async #startStream(view: ThreadView): Promise<void> {
    const { client, streamingByWorkspace } = this.#ctx;
    const ref = this.#t.ref;
    const streamer = client.chatStream({
      channel: ref.channelId,
      thread_ts: ref.threadId,
      recipient_team_id: ref.workspaceId || undefined,
      recipient_user_id: this.#t.userId || view.userId,
      task_display_mode: 'timeline',
    });
    const tasks = view.steps.map((s) => taskForStep(s, view.status.state));
    try {
      await streamer.append({ chunks: tasks });
      this.#streamer = streamer;
      this.#mode = 'stream';
      streamingByWorkspace.set(ref.workspaceId, true);
      for (const t of tasks) this.#tasks.set(t.id, JSON.stringify(t));
    } catch (err) {
      this.#mode = 'update';
      if (streamingUnsupported(err)) streamingByWorkspace.set(ref.workspaceId, false);
      this.#ctx.logger.info({ err: slackErrorCode(err), ref }, 'slack: native streaming unavailable, editing one status message instead');
    }
  }

  async #streamSteps(view: ThreadView, finished: boolean): Promise<void> {
    const streamer = this.#streamer;
    if (!streamer) return;
    const changed: TaskUpdate[] = [];
    for (const step of view.steps) {
      const task = taskForStep(step, view.status.state);
      const json = JSON.stringify(task);
      if (this.#tasks.get(task.id) !== json) {
        changed.push(task);
        this.#tasks.set(task.id, json);
      }
    }
    try {
      if (finished) {
        this.#streamDone = true;
        await streamer.stop(changed.length ? { chunks: changed } : undefined);
      } else if (changed.length) {
        await streamer.append({ chunks: changed });
      }
    } catch (err) {
      // The stream broke (expired, refused): show the steps in the status message from now on.
      this.#ctx.logger.warn({ err: slackErrorCode(err), ref: this.#t.ref }, 'slack: stream append failed; falling back to chat.update');
      this.#mode = 'update';
      this.#streamDone = true;
      if (!finished) await streamer.stop().catch(() => undefined);
    }
  }

  async #setAssistantStatus(status: string): Promise<void> {
    try {
      await this.#ctx.client.assistant.threads.setStatus({
        channel_id: this.#t.ref.channelId,
        thread_ts: this.#t.ref.threadId,
        status: truncate(status, SLACK_LIMITS.assistantStatus),
      });
    } catch (err) {
      // Only assistant threads have a status line; elsewhere this fails and that is fine.
      this.#ctx.logger.debug({ err: slackErrorCode(err) }, 'slack: assistant.threads.setStatus not applied');
    }
  }

  /** Posts a message in the thread; returns its ts, or null when it could not be posted (reported). */
  async #post(msg: SlackMessage, what: string): Promise<string | null> {
    const base = {
      channel: this.#t.ref.channelId,
      thread_ts: this.#t.ref.threadId,
      unfurl_links: false,
      unfurl_media: false,
    };
    const res = await this.#guard(`chat.postMessage (${what})`, () =>
      this.#ctx.client.chat.postMessage({ ...base, text: msg.text, blocks: msg.blocks as never }),
      () => this.#ctx.client.chat.postMessage({ ...base, text: plainFallback(msg) }),
    );
    return res?.ts ?? null;
  }

  async #update(ts: string, msg: SlackMessage): Promise<void> {
    const channel = this.#t.ref.channelId;
    await this.#guard(
      'chat.update',
      () => this.#ctx.client.chat.update({ channel, ts, text: msg.text, blocks: msg.blocks as never }),
      () => this.#ctx.client.chat.update({ channel, ts, text: plainFallback(msg), blocks: [] }),
    );
  }

  /**
   * Runs one Web API call. Transient failures throw (the chat layer retries); problems a person
   * can fix are reported once; a refused message is retried as plain text; the rest is logged.
   */
  async #guard<T>(what: string, call: () => Promise<T>, plain?: () => Promise<T>): Promise<T | null> {
    try {
      return await call();
    } catch (err) {
      const problem = classifySlackError(err);
      const ref = this.#t.ref;
      if (problem.kind === 'transient') {
        this.#ctx.logger.warn({ err: slackErrorCode(err), ref }, `slack: ${what} failed; will retry`);
        throw new TransientSlackError(`${what}: ${slackErrorCode(err)}`);
      }
      if (problem.kind === 'bad_message' && plain) {
        this.#ctx.logger.error({ err: problem.code, ref }, `slack: ${what} refused; sending plain text`);
        return this.#guard(`${what} (plain)`, plain);
      }
      this.#ctx.logger.error({ err: slackErrorCode(err), needed: (err as { data?: { needed?: string } }).data?.needed, ref }, `slack: ${what} failed`);
      await this.#report(problem);
      return null;
    }
  }

  async #report(problem: SlackProblem): Promise<void> {
    const key = problem.kind === 'missing_scope' ? `scope:${problem.needed}` : problem.kind;
    if (this.#reported.has(key)) return;
    this.#reported.add(key);
    const text = problemMessage(problem, { channelId: this.#t.ref.channelId, botUserId: this.#ctx.botUserId() });
    if (!text) return;
    const { client, logger } = this.#ctx;
    const inThread = () =>
      client.chat.postMessage({ channel: this.#t.ref.channelId, thread_ts: this.#t.ref.threadId, text, unfurl_links: false });
    // A direct message from the app reaches the person even where the bot cannot post.
    const byDm = () => client.chat.postMessage({ channel: this.#askedBy, text, unfurl_links: false });
    const attempts = (problem.kind === 'not_in_channel' ? [byDm] : [inThread, byDm]).filter((a) => a !== byDm || this.#askedBy);
    for (const attempt of attempts) {
      try {
        await attempt();
        return;
      } catch (err) {
        logger.warn({ err: slackErrorCode(err) }, 'slack: could not deliver a problem report');
      }
    }
  }
}

function plainFallback(msg: SlackMessage): string {
  const text = msg.blocks
    .map((b: Block) => ((b.text as { text?: string } | undefined)?.text ?? ''))
    .filter(Boolean)
    .join('\n\n');
  return truncate(text || msg.text, SLACK_LIMITS.plainText);
}
