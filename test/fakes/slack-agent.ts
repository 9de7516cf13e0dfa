// The agent-facing behaviours of the fake Slack (see slack.ts for the whole picture), each as the
// platform documents it:
// - Streams: a message started by chat.startStream is closed by Slack after a lifetime, even while
//   it is appended to; appendStream/stopStream then answer `message_not_in_streaming_state` and the
//   message stays a broken pill until chat.update replaces it (python-slack-sdk issue #1859,
//   node-slack-sdk PR #2611 "expose public ts property on ChatStream": "When Slack's server-side
//   timeout kills a stream, both chat.appendStream and chat.stopStream return
//   message_not_in_streaming_state ... The only recovery path is chat.update"; about 5 minutes).
// - Thread status (assistant.threads.setStatus reference): "A two minute timeout applies, which
//   will cause the status to be removed if no message has been sent"; the status is cleared when
//   the app replies in the thread (bolt-js "Adding agent features": setStatus shows work "behind
//   the scenes" until the reply); `loading_messages` holds at most 10 texts.
// - Rate tiers (docs.slack.dev apis/web-api/rate-limits): per method and workspace, Tier 2 ~20,
//   Tier 3 ~50, Tier 4 ~100 calls per minute; over it Slack answers HTTP 429 with Retry-After.
//   chat.startStream / chat.stopStream are Tier 2, chat.appendStream Tier 4, chat.update Tier 3
//   (their method reference pages). The window is configurable so tests can reach a limit.
// - Manifest (apps.manifest.validate; docs.slack.dev ai/migrating-to-agent-messaging): new apps
//   can only use `agent_view` (with `agent_description`); `assistant_view` is legacy and refused.

/** Calls per window by method (the documented tiers). */
export const RATE_TIERS: Record<string, number> = {
  'chat.postMessage': 50, // "special": about one per second per channel; Tier 3 is close enough here
  'chat.update': 50,
  'chat.startStream': 20,
  'chat.stopStream': 20,
  'chat.appendStream': 100,
  'assistant.threads.setTitle': 20,
  'assistant.threads.setSuggestedPrompts': 100,
  'files.getUploadURLExternal': 20,
  'files.completeUploadExternal': 20,
};

export class RateTiers {
  readonly #calls = new Map<string, number[]>();
  readonly windowMs: number;
  readonly limits: Record<string, number>;
  constructor(windowMs: number, limits: Record<string, number>) {
    this.windowMs = windowMs;
    this.limits = limits;
  }

  /** Seconds to wait when `method` is over its tier now, else 0 (the call is counted). */
  retryAfter(method: string, now = Date.now()): number {
    const limit = this.limits[method];
    if (!limit) return 0;
    const recent = (this.#calls.get(method) ?? []).filter((t) => now - t < this.windowMs);
    if (recent.length >= limit) {
      this.#calls.set(method, recent);
      return Math.max(1, Math.ceil((this.windowMs - (now - recent[0])) / 1000));
    }
    recent.push(now);
    this.#calls.set(method, recent);
    return 0;
  }
}

export interface ThreadStatus {
  status: string;
  loading: string[];
  setAt: number;
}

/** Status line per thread: cleared by the app's next message there and after the timeout. */
export class StatusBoard {
  readonly #byThread = new Map<string, ThreadStatus>();
  readonly timeoutMs: number;
  constructor(timeoutMs: number) {
    this.timeoutMs = timeoutMs;
  }

  set(channel: string, threadTs: string, status: string, loading: string[], now = Date.now()): string | null {
    if (loading.length > 10) return 'invalid_arguments';
    if (status) this.#byThread.set(`${channel}/${threadTs}`, { status, loading, setAt: now });
    else this.#byThread.delete(`${channel}/${threadTs}`);
    return null;
  }

  /** The app posted in the thread: Slack removes the status. */
  replied(channel: string, threadTs: string | undefined): void {
    if (threadTs) this.#byThread.delete(`${channel}/${threadTs}`);
  }

  /** What a person sees now ('' when none or timed out). */
  shown(channel: string, threadTs: string, now = Date.now()): string {
    const s = this.#byThread.get(`${channel}/${threadTs}`);
    return s && now - s.setAt < this.timeoutMs ? s.status : '';
  }
}

/** The state of a streamed message as a person sees it. */
export type StreamState = 'open' | 'stopped' | 'expired' | 'repaired';

export interface StreamedMessage {
  streaming?: 'open' | 'stopped' | 'repaired';
  streamStartedAt?: number;
}

export function streamState(m: StreamedMessage, lifetimeMs: number, now = Date.now()): StreamState | null {
  if (!m.streaming) return null;
  if (m.streaming === 'open' && now - (m.streamStartedAt ?? now) >= lifetimeMs) return 'expired';
  return m.streaming;
}

export interface ManifestProblem {
  code: string;
  message: string;
  pointer: string;
}

/** What apps.manifest.validate says about a manifest (the points this bot depends on). */
export function validateManifest(manifest: Record<string, any>): ManifestProblem[] {
  const problems: ManifestProblem[] = [];
  const features = manifest.features ?? {};
  if (features.assistant_view)
    problems.push({
      code: 'legacy_feature',
      message: 'assistant_view is legacy: new apps use agent_view (the agent messaging experience)',
      pointer: '/features/assistant_view',
    });
  const agent = features.agent_view;
  if (agent && typeof agent.agent_description !== 'string')
    problems.push({ code: 'missing_required_field', message: 'agent_view needs agent_description', pointer: '/features/agent_view/agent_description' });
  if (agent && 'assistant_description' in agent)
    problems.push({ code: 'invalid_field', message: 'agent_view takes agent_description', pointer: '/features/agent_view/assistant_description' });
  const scopes: string[] = manifest.oauth_config?.scopes?.bot ?? [];
  const events: string[] = manifest.settings?.event_subscriptions?.bot_events ?? [];
  // Each bot event needs its scope (Events API reference: app_mention -> app_mentions:read, message.* -> *:history).
  const eventScope: Record<string, string> = {
    app_mention: 'app_mentions:read',
    'message.channels': 'channels:history',
    'message.groups': 'groups:history',
    'message.im': 'im:history',
  };
  for (const e of events) {
    const needed = eventScope[e];
    if (needed && !scopes.includes(needed))
      problems.push({ code: 'missing_scope', message: `${e} needs ${needed}`, pointer: '/settings/event_subscriptions/bot_events' });
  }
  return problems;
}
