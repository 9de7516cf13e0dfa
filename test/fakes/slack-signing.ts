// How Slack signs what it sends to an app's HTTP endpoint (docs.slack.dev "Verifying requests from
// Slack"): `X-Slack-Signature: v0=` + hex HMAC-SHA256(signing secret, `v0:{timestamp}:{body}`) with
// `X-Slack-Request-Timestamp`; retries carry X-Slack-Retry-Num / X-Slack-Retry-Reason.
import { createHmac } from 'node:crypto';

/** Headers Slack sends with an HTTP event: a timestamp and the v0 signature of `{ts}:{body}`. */
export function signRequest(signingSecret: string, body: string, timestamp = Math.floor(Date.now() / 1000)): Record<string, string> {
  const sig = createHmac('sha256', signingSecret).update(`v0:${timestamp}:${body}`).digest('hex');
  return { 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': `v0=${sig}` };
}

export interface SignedPostOptions {
  /** Sign with this secret instead (invalid signatures). */
  secret?: string;
  timestamp?: number;
  retryNum?: number;
  /** `application/x-www-form-urlencoded` with a `payload` field, as Slack sends interactions. */
  form?: boolean;
}

/** POSTs a signed event (or interaction with `form`) to `url`; returns status and body. */
export async function postSignedEvent(url: string, signingSecret: string, payload: unknown, o: SignedPostOptions = {}): Promise<{ status: number; body: string }> {
  const body = o.form ? new URLSearchParams({ payload: JSON.stringify(payload) }).toString() : JSON.stringify(payload);
  const headers: Record<string, string> = {
    'content-type': o.form ? 'application/x-www-form-urlencoded' : 'application/json',
    ...signRequest(o.secret ?? signingSecret, body, o.timestamp),
  };
  if (o.retryNum !== undefined) {
    headers['x-slack-retry-num'] = String(o.retryNum);
    headers['x-slack-retry-reason'] = 'http_timeout';
  }
  const res = await fetch(url, { method: 'POST', headers, body });
  return { status: res.status, body: await res.text() };
}
