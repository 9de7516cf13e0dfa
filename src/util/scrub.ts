// Text that may carry secrets (error messages, error bodies echoed by servers, log lines) made fit
// to show: URL credentials, credential-bearing header values and configured secret values go.

/** scheme://user:pass@host -> scheme://host, anywhere in the text. */
export function stripUrlCredentials(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@"'<>]+@/gi, '$1');
}

// Header names whose values are credentials (HTTP auth, cookies, the search backends' key headers:
// Serper X-API-KEY, Brave X-Subscription-Token), raw or inside JSON, followed by ':' or '='.
// An auth scheme word is kept (BEARER below cuts the token after it).
const HEADER_VALUE = /\b(authorization|proxy-authorization|x-api-key|api[-_]key|x-subscription-token|cookie|set-cookie)(["']?\s*[:=]\s*["']?)(?!Bearer\s|Basic\s)[^"'\r\n,;}]+/gi;
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{4,}/g;

/** Drops URL credentials, header credential values, bearer tokens and each of `secrets`
 *  (values shorter than 8 characters are left alone: placeholders like EMPTY, not secrets). */
export function scrubText(text: string, secrets: readonly string[] = []): string {
  let out = stripUrlCredentials(text).replace(HEADER_VALUE, '$1$2[redacted]').replace(BEARER, '$1 [redacted]');
  for (const s of secrets) if (s.length >= 8 && out.includes(s)) out = out.split(s).join('[redacted]');
  return out;
}

/** A URL fit for logs and operator output: credentials (user:pass@) dropped, no trailing slash. */
export function displayUrl(raw: string): string {
  try {
    const u = new URL(raw);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return '(invalid URL)';
  }
}

/** For chat users: an error message without the bot's internal addresses (they are the
 *  operator's business) and without anything secret. */
export function forChat(message: string, secrets: readonly string[] = []): string {
  // Punctuation right after an address ends the sentence, not the address.
  return scrubText(message, secrets).replace(/\b(?:https?|wss?):\/\/[^\s)'"<>]*[^\s)'"<>.,:;]/gi, '(the configured server)');
}
