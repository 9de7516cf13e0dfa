// One research thread on Slack: the ThreadSurface the chat layer renders into. A status message
// (state + Stop button) is posted once and edited; the thread's status line says the bot is at
// work; code steps stream natively as task_update chunks where the workspace supports it (a series
// of streams, see step-streams.ts), otherwise they live in the status message; the answer is
// streamed as Markdown with sources and feedback buttons (or posted as messages); the trace is
// uploaded as a file when the chat layer hands it over.
import type { WebClient } from '@slack/web-api';
import type { ThreadRef, ThreadSurface, ThreadView } from '../../chat/types.ts';
import type { Logger } from '../../util/log.ts';
import { type Block, type SlackMessage, answerMarkdown, answerTail, isFinished, renderAnswer, renderNote, renderStatus, stepSummary } from './blocks.ts';
import { type SlackProblem, classifySlackError, problemMessage, slackErrorCode, streamClosed, streamingUnsupported } from './errors.ts';
import { SLACK_LIMITS, SLACK_TIMING, type SlackTiming } from './limits.ts';
import { truncate } from './mrkdwn.ts';
import { StepStreams, StreamStartFailed } from './step-streams.ts';
import { ThreadStatusLine } from './thread-status.ts';

/** What all surfaces of one adapter share. */
export interface SlackSurfaceContext {
  client: WebClient;
  logger: Logger;
  botUserId(): string;
  /** Per workspace: false once chat.startStream proved unavailable there. */
  streamingByWorkspace: Map<string, boolean>;
  /** Off: never try native streaming (e.g. for tests of the fallback). */
  streamingEnabled: boolean;
  /** Stream and status lifetimes (default SLACK_TIMING; tests shorten them). */
  timing?: Partial<SlackTiming>;
}

export interface SurfaceTarget {
  ref: ThreadRef;
  /** Who asked: recipient of streams and of problem reports by DM. */
  userId: string;
  /** A direct message with the agent (its thread gets a title). */
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
  readonly #steps: StepStreams;
  readonly #statusLine: ThreadStatusLine;
  #titled = false;
  /** Iterations of the status message (each gets new block_ids). */
  #iteration = 0;
  #answerSent = 0;
  #answerStreamed = false;
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
    const timing = { ...SLACK_TIMING, ...ctx.timing };
    this.#steps = new StepStreams({
      newStreamer: () => this.#newStreamer(),
      update: (ts, msg) => this.#update(ts, msg),
      posted: () => this.#statusLine.afterPost(),
      logger: ctx.logger,
      rotateAfterMs: timing.streamRotateAfterMs,
    });
    this.#statusLine = new ThreadStatusLine(ctx.client, ctx.logger, target.ref, { refreshMs: timing.statusRefreshMs, giveUpMs: timing.statusGiveUpMs });
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
    if (!finished) await this.#statusLine.show(statusText(view), loadingTexts(view));
    if (this.#t.dm && !this.#titled) {
      this.#titled = true;
      await this.#setTitle(view.question);
    }

    if (!this.#statusTs) {
      const msg = renderStatus(view, { streamingSteps: this.#mode !== 'update', iteration: ++this.#iteration });
      const ts = await this.#post(msg, 'status');
      if (!ts) {
        this.#dead = true; // reported (or fatal): nothing can be shown in this thread
        await this.#statusLine.clear();
        if (!finished) this.#t.onUnreachable?.(view.sessionId);
        return;
      }
      this.#statusTs = ts;
      this.#statusJson = statusKey(msg.blocks);
    }

    // Streaming only pays while steps are still coming (a recovered, finished view just edits).
    if (this.#mode === 'unknown' && view.steps.length > 0 && !finished) this.#mode = 'stream';
    if (this.#mode === 'stream') await this.#streamSteps(view, finished);

    // Steps not in a streamed message (all of them without streaming) are shown in the status message.
    const steps = view.steps.filter((s) => !this.#steps.owns(s.n));
    const msg = renderStatus(view, { streamingSteps: this.#mode === 'stream', iteration: ++this.#iteration, steps });
    if (statusKey(msg.blocks) !== this.#statusJson) {
      await this.#update(this.#statusTs, msg);
      this.#statusJson = statusKey(msg.blocks);
    }

    if (finished) {
      if (this.#mode !== 'update' && this.#answerSent === 0 && !this.#answerStreamed) await this.#streamAnswer(view);
      const parts = this.#answerStreamed ? [] : renderAnswer(view);
      while (this.#answerSent < parts.length) {
        const ts = await this.#post(parts[this.#answerSent], 'answer');
        if (!ts) break;
        this.#answerSent++;
      }
      await this.#statusLine.clear();
    }
  }

  #newStreamer() {
    const ref = this.#t.ref;
    return this.#ctx.client.chatStream({
      channel: ref.channelId,
      thread_ts: ref.threadId,
      recipient_team_id: ref.workspaceId || undefined,
      recipient_user_id: this.#askedBy || undefined,
      task_display_mode: 'timeline',
    });
  }

  async #streamSteps(view: ThreadView, finished: boolean): Promise<void> {
    try {
      await this.#steps.sync(view, finished);
      this.#ctx.streamingByWorkspace.set(this.#t.ref.workspaceId, true);
    } catch (err) {
      if (!(err instanceof StreamStartFailed)) throw err;
      // This thread shows its remaining steps in the status message; only a workspace without
      // streaming at all turns it off everywhere.
      this.#mode = 'update';
      if (streamingUnsupported(err.cause)) this.#ctx.streamingByWorkspace.set(this.#t.ref.workspaceId, false);
      this.#ctx.logger.info({ err: slackErrorCode(err.cause), ref: this.#t.ref }, 'slack: native streaming unavailable here, editing the status message instead');
    }
  }

  /**
   * Streams the answer as Markdown (a few appends), then stops with the sources and feedback
   * buttons. A too-long answer is posted as messages instead; a stream that breaks midway is
   * replaced by the rendered answer with chat.update on its ts.
   */
  async #streamAnswer(view: ThreadView): Promise<void> {
    const md = answerMarkdown(view);
    const tail = answerTail(view);
    if (!md || md.length > SLACK_LIMITS.streamMarkdown || tail.length > SLACK_LIMITS.stopStreamBlocks) return;
    const streamer = this.#newStreamer();
    try {
      for (const piece of answerPieces(md)) await streamer.append({ chunks: [{ type: 'markdown_text', text: piece }] });
      await streamer.stop({ blocks: tail as never });
      this.#answerStreamed = true;
    } catch (err) {
      this.#ctx.logger.warn({ err: slackErrorCode(err), ref: this.#t.ref }, 'slack: answer stream failed; posting the answer instead');
      if (!streamer.ts) {
        // Nothing shown: the answer is posted as messages.
        if (streamingUnsupported(err)) this.#ctx.streamingByWorkspace.set(this.#t.ref.workspaceId, false);
        return;
      }
      // Refused rather than closed by Slack: end the stream first, then replace its content.
      if (!streamClosed(err)) await streamer.stop().catch(() => undefined);
      const parts = renderAnswer(view);
      await this.#update(streamer.ts, parts[0]);
      this.#answerSent = 1;
    }
  }

  async #setTitle(question: string): Promise<void> {
    try {
      await this.#ctx.client.assistant.threads.setTitle({
        channel_id: this.#t.ref.channelId,
        thread_ts: this.#t.ref.threadId,
        title: truncate(question.replace(/\s+/g, ' ').trim(), SLACK_LIMITS.threadTitle) || 'Research',
      });
    } catch (err) {
      this.#ctx.logger.debug({ err: slackErrorCode(err) }, 'slack: assistant.threads.setTitle not applied');
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
    // Our message cleared the thread's status line on Slack's side.
    if (res?.ts) await this.#statusLine.afterPost();
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

/** What the status line says while the research runs. */
function statusText(view: ThreadView): string {
  return view.status.state === 'writing' ? 'is writing the answer…' : 'is researching…';
}

/** Rotating texts under the status: where the research stands and what the latest steps did. */
function loadingTexts(view: ThreadView): string[] {
  const s = view.status;
  const where = s.state === 'researching' ? `Step ${Math.max(s.step, 1)} of at most ${s.maxSteps}` : s.state === 'queued' ? 'Waiting for a free slot' : 'Writing the answer';
  return [where, ...view.steps.slice(-(SLACK_LIMITS.loadingMessages - 1)).map((st) => `Step ${st.n}: ${stepSummary(st)}`)];
}

/** The status blocks without their block_ids (those change every iteration). */
function statusKey(blocks: Block[]): string {
  return JSON.stringify(blocks.map(({ block_id: _id, ...b }) => b));
}

/** The answer in a few appends (paragraph boundaries where possible), so it visibly streams in. */
function answerPieces(md: string, pieces = 4): string[] {
  const size = Math.max(400, Math.ceil(md.length / pieces));
  const out: string[] = [];
  let rest = md;
  while (rest.length > size) {
    let cut = rest.lastIndexOf('\n\n', size);
    if (cut < size / 2) cut = rest.lastIndexOf(' ', size);
    if (cut < size / 2) cut = size;
    out.push(rest.slice(0, cut));
    rest = rest.slice(cut);
  }
  if (rest) out.push(rest);
  return out;
}

function plainFallback(msg: SlackMessage): string {
  const text = msg.blocks
    .map((b: Block) => ((b.text as { text?: string } | undefined)?.text ?? ''))
    .filter(Boolean)
    .join('\n\n');
  return truncate(text || msg.text, SLACK_LIMITS.plainText);
}
