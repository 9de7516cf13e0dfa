// Code steps as Slack's native streamed tasks, for research of any length. Slack closes a stream
// about 5 minutes after it started even while it is appended to, and then refuses appendStream and
// stopStream with `message_not_in_streaming_state`, leaving a broken message (python-slack-sdk
// #1859, node-slack-sdk PR #2611). So the steps live in a series of streamed messages: a new step
// opens a fresh stream once the current one is older than `rotateAfterMs` (the old one is stopped
// properly), and a stream closed under us is repaired with chat.update on its ts into a plain
// message of its steps, which later changes to those steps keep editing. Each step belongs to
// exactly one message, so every step is shown once, in order.
import type { ChatStreamer } from '@slack/web-api';
import type { StepView, ThreadView } from '../../chat/types.ts';
import type { Logger } from '../../util/log.ts';
import { type SlackMessage, type TaskUpdate, renderSteps, taskForStep } from './blocks.ts';
import { slackErrorCode, streamClosed } from './errors.ts';

export interface StepStreamsDeps {
  /** A streamer for a new message in the thread (started by its first append). */
  newStreamer(): ChatStreamer;
  /** chat.update of a message (guarded by the surface: reports problems, throws transient ones). */
  update(ts: string, msg: SlackMessage): Promise<void>;
  /** A new message was posted in the thread (Slack clears the status line then). */
  posted(): Promise<void>;
  logger: Logger;
  rotateAfterMs: number;
}

interface Segment {
  streamer: ChatStreamer;
  /** The streamed message, once chat.startStream answered. */
  ts: string | null;
  startedAt: number;
  /** open: streaming; stopped: finished properly; plain: repaired, edited with chat.update. */
  state: 'open' | 'stopped' | 'plain';
  steps: number[];
  /** Last task JSON sent per step (to send only changes). */
  sent: Map<number, string>;
}

/** Starting a stream failed: the caller shows the remaining steps another way. */
export class StreamStartFailed extends Error {
  readonly cause: unknown;
  constructor(cause: unknown) {
    super(`chat.startStream: ${slackErrorCode(cause)}`);
    this.cause = cause;
  }
}

export class StepStreams {
  readonly #deps: StepStreamsDeps;
  readonly #segments: Segment[] = [];
  readonly #owner = new Map<number, Segment>();

  constructor(deps: StepStreamsDeps) {
    this.#deps = deps;
  }

  /** Whether step `n` is shown in one of the streamed (or repaired) messages. */
  owns(n: number): boolean {
    return this.#owner.has(n);
  }

  /** Messages that are still streaming (none once the research is finished). */
  get open(): number {
    return this.#segments.filter((s) => s.state === 'open').length;
  }

  /**
   * Brings the messages up to `view`: changed steps are appended (or edited, once repaired), new
   * steps go to the current stream or a fresh one; `finished` stops the last stream. Throws
   * StreamStartFailed when a new stream cannot be started (those steps stay unowned).
   */
  async sync(view: ThreadView, finished: boolean): Promise<void> {
    const task = (s: StepView) => taskForStep(s, view.status.state);
    const byN = new Map(view.steps.map((s) => [s.n, s]));
    for (const seg of this.#segments) {
      const changed = seg.steps.map((n) => task(byN.get(n)!)).filter((t) => seg.sent.get(stepOf(t)) !== JSON.stringify(t));
      if (changed.length === 0) continue;
      if (seg.state === 'open') await this.#append(seg, changed, view);
      else await this.#repair(seg, view);
    }
    const fresh = view.steps.filter((s) => !this.#owner.has(s.n));
    if (fresh.length > 0) {
      let seg = this.#segments.at(-1);
      if (seg?.state === 'open' && Date.now() - seg.startedAt >= this.#deps.rotateAfterMs) {
        await this.#stop(seg, view);
        seg = undefined;
      }
      if (seg?.state === 'open') {
        this.#adopt(seg, fresh);
        await this.#append(seg, fresh.map(task), view);
      } else await this.#start(fresh, fresh.map(task), view);
    }
    if (finished) for (const seg of this.#segments) if (seg.state === 'open') await this.#stop(seg, view);
  }

  #adopt(seg: Segment, steps: StepView[]): void {
    for (const s of steps) {
      seg.steps.push(s.n);
      this.#owner.set(s.n, seg);
    }
  }

  async #start(steps: StepView[], tasks: TaskUpdate[], view: ThreadView): Promise<void> {
    const seg: Segment = { streamer: this.#deps.newStreamer(), ts: null, startedAt: Date.now(), state: 'open', steps: [], sent: new Map() };
    try {
      await seg.streamer.append({ chunks: tasks });
    } catch (err) {
      seg.ts = seg.streamer.ts ?? null;
      if (!seg.ts) throw new StreamStartFailed(err);
      // Started, then refused: the message exists, so it carries these steps as a plain one.
      this.#segments.push(seg);
      this.#adopt(seg, steps);
      await this.#repair(seg, view);
      return;
    }
    seg.ts = seg.streamer.ts ?? null;
    this.#segments.push(seg);
    this.#adopt(seg, steps);
    this.#markSent(seg, tasks);
    await this.#deps.posted();
  }

  async #append(seg: Segment, tasks: TaskUpdate[], view: ThreadView): Promise<void> {
    try {
      await seg.streamer.append({ chunks: tasks });
      this.#markSent(seg, tasks);
    } catch (err) {
      this.#deps.logger.warn({ err: slackErrorCode(err), ts: seg.ts }, 'slack: stream append refused; repairing the message');
      // Still streaming on Slack's side (a refusal, not the lifetime): end it before the repair.
      if (!streamClosed(err)) await seg.streamer.stop().catch(() => undefined);
      await this.#repair(seg, view);
    }
  }

  async #stop(seg: Segment, view: ThreadView): Promise<void> {
    const task = (n: number) => taskForStep(view.steps.find((s) => s.n === n)!, view.status.state);
    const changed = seg.steps.map(task).filter((t) => seg.sent.get(stepOf(t)) !== JSON.stringify(t));
    try {
      await seg.streamer.stop(changed.length ? { chunks: changed } : undefined);
      seg.state = 'stopped';
      this.#markSent(seg, changed);
    } catch (err) {
      if (!streamClosed(err)) this.#deps.logger.warn({ err: slackErrorCode(err), ts: seg.ts }, 'slack: stream stop refused; repairing the message');
      await this.#repair(seg, view);
    }
  }

  /** The stream is gone (closed by Slack, or refused): its message becomes a plain one with its steps. */
  async #repair(seg: Segment, view: ThreadView): Promise<void> {
    seg.state = 'plain';
    const steps = seg.steps.map((n) => view.steps.find((s) => s.n === n)!).filter(Boolean);
    if (seg.ts) await this.#deps.update(seg.ts, renderSteps(steps));
    this.#markSent(seg, steps.map((s) => taskForStep(s, view.status.state)));
  }

  #markSent(seg: Segment, tasks: TaskUpdate[]): void {
    for (const t of tasks) seg.sent.set(stepOf(t), JSON.stringify(t));
  }
}

function stepOf(t: TaskUpdate): number {
  return Number(t.id.slice('step-'.length));
}
