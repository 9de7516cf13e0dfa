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
} as const;

/** Supporting quotes shown under an answer's sources (all of them are in the trace file). */
export const SLACK_QUOTES = { perSource: 2, totalChars: 2400 } as const;

/** Web API rate tiers we pace against (calls per minute per workspace). */
export const SLACK_RATES = {
  /** chat.update is Tier 3 (~50/min); stay under it with headroom for other threads' final edits. */
  chatUpdatePerMinute: 45,
} as const;

/** Headroom left under each text limit so escaping and joiners never push us over. */
export const SAFETY_MARGIN = 50;
