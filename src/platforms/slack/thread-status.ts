// The status line under a research thread ("cir-bot is researching…" with rotating texts), set
// with assistant.threads.setStatus. Slack removes it when the app posts in the thread and after two
// minutes without a message (method reference), so it is set again after each of our posts and on
// a timer shorter than the timeout. Works in DMs and channel threads with chat:write.
import type { WebClient } from '@slack/web-api';
import type { ThreadRef } from '../../chat/types.ts';
import type { Logger } from '../../util/log.ts';
import { classifySlackError, slackErrorCode } from './errors.ts';
import { SLACK_LIMITS } from './limits.ts';
import { defuseMarkup, truncate } from './mrkdwn.ts';

export interface StatusTiming {
  refreshMs: number;
  /** No new status for this long: stop refreshing (the research's final view never came). */
  giveUpMs: number;
}

export class ThreadStatusLine {
  readonly #client: WebClient;
  readonly #logger: Logger;
  readonly #ref: ThreadRef;
  readonly #timing: StatusTiming;
  #status = '';
  #loading: string[] = [];
  #shownAt = 0;
  #timer: NodeJS.Timeout | null = null;
  /** Slack refused the status here for good (e.g. a channel type without it): stop trying. */
  #off = false;

  constructor(client: WebClient, logger: Logger, ref: ThreadRef, timing: StatusTiming) {
    this.#client = client;
    this.#logger = logger;
    this.#ref = ref;
    this.#timing = timing;
  }

  /** Shows `status` with rotating `loading` texts (model text is defused) and keeps it alive. */
  async show(status: string, loading: string[]): Promise<void> {
    const texts = loading
      .map((t) => truncate(defuseMarkup(t.replace(/\s+/g, ' ').trim()), SLACK_LIMITS.assistantStatus))
      .filter(Boolean)
      .slice(-SLACK_LIMITS.loadingMessages);
    const same = status === this.#status && JSON.stringify(texts) === JSON.stringify(this.#loading);
    this.#status = status;
    this.#loading = texts;
    this.#shownAt = Date.now();
    this.#arm();
    if (!same) await this.#apply();
  }

  /** We just posted in the thread, which removes the status on Slack's side: put it back. */
  async afterPost(): Promise<void> {
    if (this.#status) await this.#apply();
  }

  /** The research ended: no status any more. */
  async clear(): Promise<void> {
    this.#disarm();
    if (!this.#status) return;
    this.#status = '';
    this.#loading = [];
    await this.#apply();
  }

  #arm(): void {
    if (this.#timer || this.#off) return;
    this.#timer = setInterval(() => {
      if (Date.now() - this.#shownAt > this.#timing.giveUpMs) return this.#disarm();
      void this.#apply();
    }, this.#timing.refreshMs);
    this.#timer.unref();
  }

  #disarm(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  async #apply(): Promise<void> {
    if (this.#off) return;
    try {
      await this.#client.assistant.threads.setStatus({
        channel_id: this.#ref.channelId,
        thread_ts: this.#ref.threadId,
        status: truncate(this.#status, SLACK_LIMITS.assistantStatus),
        ...(this.#status && this.#loading.length ? { loading_messages: this.#loading } : {}),
      });
    } catch (err) {
      // A failed refresh is tried again by the timer; a refusal (not an agent thread, no scope) is final.
      if (classifySlackError(err).kind !== 'transient') {
        this.#off = true;
        this.#disarm();
      }
      this.#logger.debug({ err: slackErrorCode(err), ref: this.#ref }, 'slack: assistant.threads.setStatus not applied');
    }
  }
}
