// Discord API errors the adapter reacts to: missing permissions and missing access get a message
// naming what to grant; everything else is rethrown by the caller.
import { DISCORD_ERRORS } from './limits.ts';

/** The JSON error code of a discord.js / @discordjs/rest error, if any. */
export function discordCode(err: unknown): number | null {
  if (err && typeof err === 'object' && 'code' in err && typeof (err as { code: unknown }).code === 'number')
    return (err as { code: number }).code;
  return null;
}

export function httpStatus(err: unknown): number | null {
  if (err && typeof err === 'object' && 'status' in err && typeof (err as { status: unknown }).status === 'number')
    return (err as { status: number }).status;
  return null;
}

/**
 * Errors after which creating a thread is pointless: answer in the channel instead. (160004, a
 * thread already exists for the message, is not one: that thread is reused.)
 */
export function isThreadRefusal(err: unknown): boolean {
  const c = discordCode(err);
  return (
    c === DISCORD_ERRORS.missingPermissions ||
    c === DISCORD_ERRORS.missingAccess ||
    c === DISCORD_ERRORS.cannotExecuteOnChannelType ||
    c === DISCORD_ERRORS.maxActiveThreads ||
    c === DISCORD_ERRORS.threadLocked
  );
}

/** Errors meaning the bot cannot write where it tried (no use retrying). */
export function isAccessError(err: unknown): boolean {
  const c = discordCode(err);
  return c === DISCORD_ERRORS.missingPermissions || c === DISCORD_ERRORS.missingAccess || c === DISCORD_ERRORS.unknownChannel;
}

/** The channel permissions the bot needs, by what it does. */
export const NEEDED = {
  view: 'View Channel',
  send: 'Send Messages',
  sendInThreads: 'Send Messages in Threads',
  createThreads: 'Create Public Threads',
  attach: 'Attach Files',
  history: 'Read Message History',
} as const;

export function missingPermissionsText(names: string[], where = 'this channel'): string {
  const list = names.map((n) => `**${n}**`).join(', ');
  return `I can't work in ${where}: I'm missing the ${list} permission${names.length > 1 ? 's' : ''}. Ask a server admin to grant ${names.length > 1 ? 'them' : 'it'} to my role, or use me in another channel.`;
}

export function noThreadText(reason: string): string {
  return `I couldn't open a thread here (${reason}), so I'll answer in the channel.`;
}

/** Why a thread could not be created, in words for the user. */
export function threadRefusalReason(err: unknown): string {
  switch (discordCode(err)) {
    case DISCORD_ERRORS.missingPermissions:
      return `missing the **${NEEDED.createThreads}** permission`;
    case DISCORD_ERRORS.missingAccess:
      return 'no access to this channel';
    case DISCORD_ERRORS.maxActiveThreads:
      return 'this channel has too many active threads';
    case DISCORD_ERRORS.threadLocked:
      return 'the thread is locked';
    default:
      return "this channel type doesn't support threads";
  }
}
