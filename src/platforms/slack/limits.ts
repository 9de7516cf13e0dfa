// Slack's size and rate limits, kept as data in one place. Renderers budget against these numbers
// with a little headroom; a message that breaks one is rejected by Slack as a whole.

export const SLACK_LIMITS = {
  /** `text` of a section block (mrkdwn or plain_text). */
  sectionText: 3000,
  /** Blocks in one message. */
  blocksPerMessage: 50,
  /** All text carried by the blocks of one message (practical limit; Slack truncates beyond). */
  messageBlockText: 12000,
  /** Top-level `text` of a message: the notification / fallback text. */
  plainText: 4000,
  /** Text of one element of a context block. */
  contextText: 2000,
  /** Visible text of a button. */
  buttonText: 75,
  /** `value` of a button. */
  buttonValue: 2000,
  /** Title of a task in a streamed `task_update` chunk. */
  taskTitle: 256,
  /** `details` / `output` of a streamed `task_update` chunk (kept short: they are previews). */
  taskDetails: 1000,
  /** Status line of assistant.threads.setStatus. */
  assistantStatus: 50,
  /** `loading_messages` of assistant.threads.setStatus (rotating texts; method reference: at most 10). */
  loadingMessages: 10,
  /** Thread title (assistant.threads.setTitle); kept short like a subject line. */
  threadTitle: 100,
  /** Suggested prompts shown when a person opens the agent (method reference: up to four). */
  suggestedPrompts: 4,
  /** `markdown_text` of one streaming call (chat.startStream/appendStream reference: 12,000). */
  streamMarkdown: 12000,
  /** Blocks passed to chat.stopStream (its reference: 50, apart from chunks). */
  stopStreamBlocks: 50,
} as const;

/** Supporting quotes shown under an answer's sources (all of them are in the trace file). */
export const SLACK_QUOTES = { perSource: 2, totalChars: 2400 } as const;

/** Web API rate tiers we pace against (calls per minute per workspace). */
export const SLACK_RATES = {
  /** chat.update is Tier 3 (~50/min); stay under it with headroom for other threads' final edits. */
  chatUpdatePerMinute: 45,
  /** chat.startStream and chat.stopStream are Tier 2 (~20/min): one stream per thread at a time, rotated rarely. */
  streamStartStopPerMinute: 20,
  /**
   * chat.appendStream is Tier 4 (~100/min): steps and answer pieces go through it. Renders are
   * paced at chatUpdatePerMinute per workspace and make at most one append per open stream, so
   * steps stay under it; an answer adds a handful.
   */
  streamAppendPerMinute: 100,
} as const;

/** Lifetimes Slack imposes (undocumented in the method pages; see each). */
export const SLACK_TIMING = {
  /**
   * Slack closes a stream about 5 minutes after chat.startStream even while it is appended to
   * (python-slack-sdk #1859, node-slack-sdk PR #2611): rotate to a fresh stream well before.
   */
  streamRotateAfterMs: 3 * 60_000,
  /** assistant.threads.setStatus lasts two minutes without a message: refresh it sooner. */
  statusRefreshMs: 90_000,
  /** Stop refreshing a status nobody updates (a research whose final view never came). */
  statusGiveUpMs: 30 * 60_000,
} as const;

export type SlackTiming = { [K in keyof typeof SLACK_TIMING]: number };

/** Headroom left under each text limit so escaping and joiners never push us over. */
export const SAFETY_MARGIN = 50;
