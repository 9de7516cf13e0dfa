// Sizes that bound what crosses between an interpreter process and the host.

/** Longest output or error text that crosses from a child to the host (the prelude keeps far
 *  less; only code that tampered with the prelude gets near it). Enforced on both sides. */
export const MAX_TEXT_CHARS = 1024 * 1024;
/** Longest tool argument (a query or a URL); longer calls are refused inside the child. */
export const MAX_ARG_CHARS = 16 * 1024;
/** Longest saved Python state (compressed, base64) the host keeps for an idle session; a larger
 *  state is not saved and the session keeps its interpreter instead. */
export const MAX_STATE_CHARS = 16 * 1024 * 1024;
