// Every Discord limit and pacing figure the adapter relies on, in one place (DESIGN.md section 4).
// Change them here only; renderers and surfaces take them from this object.

export const DISCORD_LIMITS = {
  /** Characters in one message's content. */
  messageChars: 2000,
  /** Embed description, and all embeds of one message together (we use no embeds; kept as facts). */
  embedDescriptionChars: 4096,
  embedTotalChars: 6000,
  /** Thread names. */
  threadNameChars: 100,
  /** custom_id of a button. */
  customIdChars: 100,
  /** Bots may upload this much per message without boosts (interactions report attachment_size_limit). */
  attachmentBytes: 10 * 1024 * 1024,
  /** The initial interaction response is due within 3 s. */
  interactionAckMs: 3000,
  /** Interaction tokens (follow-ups, editReply) die after 15 minutes: progress never depends on them. */
  interactionTokenMs: 15 * 60 * 1000,
  /** Minimum spacing of edits of messages in one channel (~5 edits per 5 s; discord.js also honours headers). */
  editIntervalMs: 1100,
  /** Auto-archive of research threads, minutes (one of 60, 1440, 4320, 10080). */
  threadAutoArchiveMin: 1440,
  /** A typing indicator expires after 10 s (Trigger Typing Indicator): renewed a little sooner. */
  typingRefreshMs: 8000,
  /** Typing stops when no render came for this long (the research's final view never arrived). */
  typingGiveUpMs: 30 * 60 * 1000,
} as const;

/** How much of a step is shown in chat (the full text is in the attached trace). */
export const STEP_DISPLAY = {
  codeChars: 900,
  codeLines: 30,
  observationChars: 450,
  observationLines: 10,
  /** One step block never exceeds this, so a header plus the live step always fit one message. */
  blockChars: 1700,
} as const;

/** Supporting quotes shown under an answer's sources (all of them are in the trace file). */
export const DISCORD_QUOTES = { perSource: 2, totalChars: 1500 } as const;

/** Discord JSON error codes the adapter reacts to. */
export const DISCORD_ERRORS = {
  unknownChannel: 10003,
  unknownMessage: 10008,
  unknownInteraction: 10062,
  missingAccess: 50001,
  cannotSendEmptyMessage: 50006,
  invalidWebhookToken: 50027,
  missingPermissions: 50013,
  cannotExecuteOnChannelType: 50024,
  replyWithoutHistory: 160002,
  threadAlreadyCreated: 160004,
  threadLocked: 160005,
  maxActiveThreads: 160006,
} as const;
