// Plain-text wording shared by the platforms (they add their own markup around it).
import type { Platform, ThreadStatus } from './types.ts';

/** "14:05 UTC" (or "Mar 3, 14:05 UTC" when not today in UTC). */
export function formatUtcTime(at: number, now: number): string {
  const d = new Date(at);
  const hm = `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')} UTC`;
  if (new Date(now).toISOString().slice(0, 10) === d.toISOString().slice(0, 10)) return hm;
  const month = d.toLocaleString('en-US', { month: 'short', timeZone: 'UTC' });
  return `${month} ${d.getUTCDate()}, ${hm}`;
}

/** "hour" for 60 minutes, "2 hours", "30 minutes", "day". */
export function windowName(windowMs: number): string {
  const min = Math.round(windowMs / 60_000);
  if (min === 60) return 'hour';
  if (min === 1440) return 'day';
  if (min % 60 === 0) return `${min / 60} hours`;
  return `${min} minutes`;
}

export function userQuotaMessage(quota: number, windowMs: number, retryAt: number, now: number): string {
  const per = windowName(windowMs);
  const period = /^\d/.test(per) ? `in the last ${per}` : `this ${per}`;
  return `You have used your ${quota} ${quota === 1 ? 'question' : 'questions'} ${period}; the next one frees at ${formatUtcTime(retryAt, now)}.`;
}

export function workspaceQuotaMessage(quota: number, windowMs: number, retryAt: number, now: number): string {
  const per = windowName(windowMs);
  const period = /^\d/.test(per) ? `in the last ${per}` : `this ${per}`;
  return `This workspace has used its ${quota} ${quota === 1 ? 'question' : 'questions'} ${period}; the next one frees at ${formatUtcTime(retryAt, now)}.`;
}

export const CAPACITY_MESSAGE = 'The bot is at capacity; please try again in a few minutes.';
export const SHUTDOWN_MESSAGE = 'The bot is restarting; please ask again in a minute.';
export const BUSY_MESSAGE =
  'I am still working on the previous question in this thread; wait for it to finish or stop it first.';
export const DUPLICATE_MESSAGE = 'This message is already being answered.';
export const EMPTY_QUESTION_MESSAGE = 'Please ask a question, e.g. "what changed in Node 24?"';
export const tooLongMessage = (max: number): string => `That question is too long (over ${max} characters); please shorten it.`;
export const NOTHING_TO_RETRY_MESSAGE = 'There is nothing to retry: that research was not interrupted.';
export const RETRY_NOT_YOURS_MESSAGE = 'Only the person who asked can retry this question; ask it yourself to research it for you.';
/** A stop refused: the research keeps running. Discord names who else may (Manage Messages). */
export function stopNotYoursMessage(platform: Platform): string {
  const who = platform === 'discord' ? 'the person who asked, or a member who can manage messages here,' : 'the person who asked';
  return `Sorry, only ${who} can stop this research; it keeps running.`;
}
export const ALREADY_RETRIED_MESSAGE = 'This question has already been asked again in this thread.';

/** Told by a gateway when a question waits in the queue for a free worker. */
export function waitingForWorkerMessage(ahead: number): string {
  return `${ahead === 0 ? 'Queued: you are next' : `Queued: ${ahead} ahead of you`}. The research starts as soon as a worker is free.`;
}

/** The one-line status of a thread, e.g. "Researching: step 3 of at most 32". `mention` formats a user id. */
export function statusLine(status: ThreadStatus, mention: (userId: string) => string = (id) => id): string {
  switch (status.state) {
    case 'queued':
      return status.ahead === 0
        ? 'Queued: you are next'
        : `Queued: ${status.ahead} ahead of you`;
    case 'researching':
      return `Researching: step ${status.step} of at most ${status.maxSteps}`;
    case 'writing':
      return 'Writing the answer';
    case 'done':
      return 'Done';
    case 'failed':
      return `Failed: ${status.message}`;
    case 'cancelled':
      return status.by ? `Stopped by ${mention(status.by)}` : 'Stopped';
    case 'interrupted':
      return 'Interrupted by a restart; press Retry to ask again';
  }
}
