// Buttons the bot attaches (raw API JSON, so they go through any REST call) and the parsing of
// their custom_id when clicked. custom_ids carry the session id (<= 100 characters).
import { DISCORD_LIMITS } from './limits.ts';

const PREFIX = 'cir';

export type ButtonAction =
  | { kind: 'stop'; sessionId: string }
  | { kind: 'retry'; sessionId: string }
  | { kind: 'feedback'; sessionId: string; value: 'up' | 'down' };

// Component and style numbers from the Discord API: action row 1, button 2; primary 1, secondary 2, danger 4.
const button = (customId: string, label: string, style: number, emoji?: string) => ({
  type: 2,
  style,
  label,
  custom_id: customId.slice(0, DISCORD_LIMITS.customIdChars),
  ...(emoji ? { emoji: { name: emoji } } : {}),
});

export type ActionRow = { type: 1; components: ReturnType<typeof button>[] };

export function stopRow(sessionId: string): ActionRow {
  return { type: 1, components: [button(`${PREFIX}:stop:${sessionId}`, 'Stop', 4, '⏹️')] };
}

/** Under the status of a session a restart interrupted: asks its question again. */
export function retryRow(sessionId: string): ActionRow {
  return { type: 1, components: [button(`${PREFIX}:retry:${sessionId}`, 'Retry', 1, '🔁')] };
}

export function feedbackRow(sessionId: string): ActionRow {
  return {
    type: 1,
    components: [
      button(`${PREFIX}:fb:up:${sessionId}`, 'Helpful', 2, '👍'),
      button(`${PREFIX}:fb:down:${sessionId}`, 'Not helpful', 2, '👎'),
    ],
  };
}

/** The action of one of our buttons, or null for anything else. */
export function parseCustomId(id: string): ButtonAction | null {
  const parts = id.split(':');
  if (parts[0] !== PREFIX) return null;
  if (parts[1] === 'stop' && parts[2]) return { kind: 'stop', sessionId: parts.slice(2).join(':') };
  if (parts[1] === 'retry' && parts[2]) return { kind: 'retry', sessionId: parts.slice(2).join(':') };
  if (parts[1] === 'fb' && (parts[2] === 'up' || parts[2] === 'down') && parts[3])
    return { kind: 'feedback', value: parts[2], sessionId: parts.slice(3).join(':') };
  return null;
}
