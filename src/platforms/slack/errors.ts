// Web API failures sorted by what can be done about them, with the message a person can act on.
import { ErrorCode } from '@slack/web-api';

export type SlackProblem =
  /** The bot cannot post in the channel: someone must invite it. */
  | { kind: 'not_in_channel'; code: string }
  /** The app lacks a scope: an admin must add it and reinstall. */
  | { kind: 'missing_scope'; needed: string | null }
  /** The message was refused as too large or malformed (a renderer bug): retry as plain text. */
  | { kind: 'bad_message'; code: string }
  /** Token revoked, app uninstalled, archived channel: nothing to do in Slack now. */
  | { kind: 'fatal'; code: string }
  /** Native streaming is not available here: fall back to chat.update. */
  | { kind: 'no_streaming'; code: string }
  /** Network trouble, Slack 5xx, exhausted retries: worth trying again later. */
  | { kind: 'transient'; code: string };

const NOT_IN_CHANNEL = new Set(['not_in_channel', 'channel_not_found']);
const FATAL = new Set([
  'invalid_auth',
  'not_authed',
  'account_inactive',
  'token_revoked',
  'token_expired',
  'no_permission',
  'is_archived',
  'restricted_action',
  'restricted_action_read_only_channel',
  'restricted_action_thread_only_channel',
  'team_access_not_granted',
  'ekm_access_denied',
  'message_not_found',
  'cant_update_message',
  'edit_window_closed',
]);
const BAD_MESSAGE = new Set(['invalid_blocks', 'invalid_blocks_format', 'msg_too_long', 'too_many_attachments', 'invalid_arguments', 'no_text']);

interface ErrorLike {
  code?: string;
  data?: { error?: string; needed?: string };
  message?: string;
}

/** The Slack error code of a Web API failure ('network' when Slack was not reached). */
export function slackErrorCode(err: unknown): string {
  const e = err as ErrorLike;
  if (e?.code === ErrorCode.PlatformError) return e.data?.error ?? 'unknown_error';
  if (e?.code === ErrorCode.RateLimitedError) return 'ratelimited';
  if (e?.code === ErrorCode.HTTPError) return 'http_error';
  return 'network';
}

export function classifySlackError(err: unknown): SlackProblem {
  const code = slackErrorCode(err);
  if (code === 'missing_scope') return { kind: 'missing_scope', needed: (err as ErrorLike).data?.needed ?? null };
  if (NOT_IN_CHANNEL.has(code)) return { kind: 'not_in_channel', code };
  if (BAD_MESSAGE.has(code)) return { kind: 'bad_message', code };
  if (FATAL.has(code)) return { kind: 'fatal', code };
  if (code === 'network' || code === 'http_error' || code === 'ratelimited' || code === 'internal_error' || code === 'fatal_error' || code === 'service_unavailable' || code === 'request_timeout')
    return { kind: 'transient', code };
  return { kind: 'fatal', code };
}

/**
 * Codes after which the workspace cannot stream at all (fall back to chat.update until restart).
 * Anything else (not_in_channel, restricted_action_thread_locked, message_limit_exceeded,
 * invalid_chunks, ...) concerns one thread only.
 */
const NO_STREAMING = new Set(['feature_not_enabled', 'method_deprecated', 'unknown_method']);

export function streamingUnsupported(err: unknown): boolean {
  return NO_STREAMING.has(slackErrorCode(err));
}

/** Slack closed the stream (its lifetime ran out): the message can only be repaired with chat.update. */
export function streamClosed(err: unknown): boolean {
  return slackErrorCode(err) === 'message_not_in_streaming_state';
}

/** What to tell a person about a problem they (or an admin) can fix. */
export function problemMessage(p: SlackProblem, where: { channelId: string; botUserId: string }): string | null {
  switch (p.kind) {
    case 'not_in_channel':
      return (
        `I can't post in <#${where.channelId}> because I'm not a member of it. ` +
        `Invite me by typing \`/invite <@${where.botUserId}>\` in that channel ` +
        '(for a private channel: channel details → Integrations → Add apps), then ask again.'
      );
    case 'missing_scope':
      return (
        `I'm missing the Slack permission${p.needed ? ` \`${p.needed}\`` : ''} for this. ` +
        'A workspace admin can add it under *OAuth & Permissions* of the app (or update the app from ' +
        '`deploy/slack-manifest.yaml`) and reinstall the app to the workspace.'
      );
    default:
      return null;
  }
}
