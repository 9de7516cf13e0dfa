// What both chat services (in-process, scheduler.ts; queueing, distributed/gateway.ts) do the same
// way in front of admission: events for metrics, refusals told in the thread and remembered so a
// redelivery is not refused twice, dedupe against the store, and the Retry button's checks.
import { mayControl, refOf } from './admission.ts';
import * as msg from './messages.ts';
import { ChatRecords } from './records.ts';
import type { ChatEvent, ChatStats, SubmitOptions } from './service.ts';
import type { Platform, ResearchRequest, SubmitOutcome, ThreadRef, ThreadSurface } from './types.ts';

export type Rejection = Extract<SubmitOutcome, { accepted: false }>;

/** seen_events key of a refused request's platform event (accepted ones live in the sessions table). */
const refusedKey = (sourceEventId: string): string => `refused:${sourceEventId}`;
const NO_REF: ThreadRef = { platform: 'terminal', workspaceId: '', channelId: '', threadId: '' };

export abstract class ChatFront extends ChatRecords {
  readonly #listeners = new Set<(e: ChatEvent) => void>();
  protected readonly rejected: ChatStats['rejected'] = { quota: 0, capacity: 0, busy: 0, duplicate: 0, invalid: 0 };

  /** Admits (or turns away, without telling anyone yet) one request. */
  protected abstract admit(req: ResearchRequest, surface: ThreadSurface, opts: SubmitOptions): Promise<SubmitOutcome>;

  protected emit(e: ChatEvent): void {
    for (const l of this.#listeners) {
      try {
        l(e);
      } catch (err) {
        this.log.warn({ err }, 'chat event listener threw');
      }
    }
  }

  onEvent(listener: (e: ChatEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  protected reject(ref: ThreadRef, reason: Rejection['reason'], message: string, extra: Partial<Rejection> = {}): Rejection {
    this.rejected[reason] += 1;
    this.emit({ kind: 'rejected', ref: refOf(ref), reason });
    return { accepted: false, reason, message, ...extra };
  }

  /** Every refusal is told in its thread here, so both platforms say the same. */
  protected async refuse(surface: ThreadSurface | undefined, r: Rejection): Promise<Rejection> {
    try {
      await surface?.notify(r.message);
    } catch (err) {
      this.log.warn({ err, reason: r.reason }, 'could not post a refusal');
    }
    return r;
  }

  submit(req: ResearchRequest, surface: ThreadSurface, opts: SubmitOptions = {}): Promise<SubmitOutcome> {
    return this.#submit(req, surface, opts, true);
  }

  async #submit(req: ResearchRequest, surface: ThreadSurface, opts: SubmitOptions, rememberRefusal: boolean): Promise<SubmitOutcome> {
    const out = await this.admit(req, surface, opts);
    if (out.accepted) return out;
    // Remembered before the refusal is posted, so a redelivery (Slack retry, app_mention/message
    // twin, gateway replay) is not refused twice. Not for Retry presses: those may be pressed again.
    if (rememberRefusal && req.sourceEventId && out.reason !== 'duplicate') {
      const key = refusedKey(req.sourceEventId);
      await this.persist('refusal', () => this.store.markEventSeen(req.platform, key, this.now()));
    }
    return this.refuse(surface, out);
  }

  /** Whether the store knows this platform event (a session, or a remembered refusal). */
  protected async seenInStore(platform: Platform, sourceEventId: string): Promise<boolean> {
    try {
      return (
        (await this.store.findBySourceEvent(platform, sourceEventId)) !== null ||
        (await this.store.hasSeenEvent(platform, refusedKey(sourceEventId)))
      );
    } catch (err) {
      // Never drop the only delivery because the store failed.
      this.log.error({ err }, 'dedupe lookup failed; treating the request as new');
      return false;
    }
  }

  async retry(sessionId: string, byUserId: string, surface: ThreadSurface, opts: SubmitOptions = {}): Promise<SubmitOutcome> {
    const rec = await this.store.getSession(sessionId);
    const ref = rec?.ref ?? NO_REF;
    if (!rec || rec.status !== 'interrupted') return this.refuse(surface, this.reject(ref, 'invalid', msg.NOTHING_TO_RETRY_MESSAGE));
    if (!mayControl(rec.userId, byUserId, false)) return this.refuse(surface, this.reject(ref, 'invalid', msg.RETRY_NOT_YOURS_MESSAGE));
    const sourceEventId = `retry:${rec.id}`;
    if (await this.store.findBySourceEvent(rec.ref.platform, sourceEventId))
      return this.refuse(surface, this.reject(ref, 'duplicate', msg.ALREADY_RETRIED_MESSAGE));
    // The asker's own request again: their quotas, the thread's history, one session per thread.
    return this.#submit({ ...rec.ref, userId: rec.userId, question: rec.question, sourceEventId }, surface, opts, false);
  }
}
