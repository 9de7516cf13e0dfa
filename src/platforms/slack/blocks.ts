// Block Kit rendering of a research thread: pure functions from ThreadView to Slack messages.
// Every output is budgeted against SLACK_LIMITS (section text, blocks per message, text per message).
import { statusLine as sharedStatusLine } from '../../chat/messages.ts';
import type { SourceView, StepView, ThreadStatus, ThreadView } from '../../chat/types.ts';
import { evidenceBlocks } from './evidence.ts';
import { SAFETY_MARGIN, SLACK_LIMITS } from './limits.ts';
import { defuseMarkup, escapeMrkdwn, link, markdownToMrkdwn, splitMrkdwn, truncate, truncateStart } from './mrkdwn.ts';

/** A Block Kit block as plain data (the Web API client takes these as they are). */
export type Block = { type: string; [key: string]: unknown };

export interface SlackMessage {
  /** Notification / fallback text (plain, short). */
  text: string;
  blocks: Block[];
}

/** Streamed task shape (chat.appendStream `task_update` chunk). */
export interface TaskUpdate {
  type: 'task_update';
  id: string;
  title: string;
  status: 'pending' | 'in_progress' | 'complete' | 'error';
  details?: string;
  output?: string;
}

export const ACTION_STOP = 'cir_stop';
export const ACTION_RETRY = 'cir_retry';
/** Slack's native feedback buttons (one action id; the value says which button and which session). */
export const ACTION_FEEDBACK = 'cir_feedback';
/** Home-made 👍/👎 of answers posted before the native buttons: still understood. */
export const ACTION_FEEDBACK_UP = 'cir_feedback_up';
export const ACTION_FEEDBACK_DOWN = 'cir_feedback_down';

/** Value of a native feedback button: `up:<session>` or `down:<session>`. */
export function feedbackValue(value: 'up' | 'down', sessionId: string): string {
  return `${value}:${sessionId}`.slice(0, SLACK_LIMITS.buttonValue);
}

const SECTION_MAX = SLACK_LIMITS.sectionText - SAFETY_MARGIN;
const MESSAGE_TEXT_MAX = SLACK_LIMITS.messageBlockText - 500;
const MESSAGE_BLOCKS_MAX = SLACK_LIMITS.blocksPerMessage - 2;
const CODE_PREVIEW = 900;
const OBSERVATION_PREVIEW = 700;

export function isFinished(status: ThreadStatus): boolean {
  return ['done', 'failed', 'cancelled', 'interrupted'].includes(status.state);
}

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return s % 60 ? `${m}m ${s % 60}s` : `${m}m`;
}

/** One line saying where the research stands (mrkdwn). */
export function statusLine(view: ThreadView, now: number = Date.now()): string {
  const s = view.status;
  const took = formatDuration((view.finishedAt ?? now) - view.startedAt);
  switch (s.state) {
    case 'queued':
      // The wording both platforms share ("Queued: 2 ahead of you").
      return `:hourglass_flowing_sand: ${sharedStatusLine(s)}`;
    case 'researching':
      return `:mag: Researching: step ${Math.max(s.step, 1)} of at most ${s.maxSteps} · ${took}`;
    case 'writing':
      return `:writing_hand: Writing the answer · ${view.steps.length} ${plural(view.steps.length, 'step')} · ${took}`;
    case 'done':
      return view.steps.length === 0
        ? `:white_check_mark: Done in ${took}`
        : `:white_check_mark: Done: ${view.steps.length} ${plural(view.steps.length, 'step')} in ${took}`;
    case 'failed':
      return `:warning: ${escapeMrkdwn(truncate(s.message, 1500))}`;
    case 'cancelled':
      return `:black_square_for_stop: Stopped${s.by ? ` by <@${s.by}>` : ''} after ${view.steps.length} ${plural(view.steps.length, 'step')}`;
    case 'interrupted':
      return ':warning: Interrupted: the bot restarted before this research finished. Press *Retry* to ask again.';
  }
}

function plural(n: number, word: string): string {
  return n === 1 ? word : `${word}s`;
}

/** What a step did, in one short line (tools called). */
export function stepSummary(step: StepView): string {
  if (step.tools.length === 0) return step.error ? 'code (error)' : 'code';
  const parts = step.tools.slice(0, 4).map((t) =>
    t.name === 'web_search' ? `search “${truncate(t.arg, 80)}”` : `read ${shortUrl(t.arg)}`,
  );
  if (step.tools.length > 4) parts.push(`+${step.tools.length - 4} more`);
  return parts.join(', ');
}

function shortUrl(url: string): string {
  try {
    const u = new URL(url);
    return truncate(u.hostname.replace(/^www\./, '') + (u.pathname === '/' ? '' : u.pathname), 60);
  } catch {
    return truncate(url, 60);
  }
}

function stepSection(step: StepView): Block {
  const title = `*Step ${step.n}* · ${escapeMrkdwn(stepSummary(step))}`;
  const code = escapeMrkdwn(truncate(step.code.trim(), CODE_PREVIEW)).replace(/```/g, '`‵`');
  let text = `${title}\n\`\`\`\n${code}\n\`\`\``;
  if (step.error) text += `\n:warning: ${escapeMrkdwn(truncate(step.error, 300))}`;
  else if (step.observation !== null) {
    const obs = escapeMrkdwn(truncateStart(step.observation.trim(), OBSERVATION_PREVIEW)).replace(/```/g, '`‵`');
    text += obs ? `\n\`\`\`\n${obs}\n\`\`\`` : '\n_(no output)_';
  } else text += '\n_running…_';
  return section(truncate(text, SECTION_MAX));
}

function section(text: string): Block {
  return { type: 'section', text: { type: 'mrkdwn', text } };
}

function context(text: string): Block {
  return { type: 'context', elements: [{ type: 'mrkdwn', text: truncate(text, SLACK_LIMITS.contextText) }] };
}

function button(text: string, actionId: string, value: string, style?: 'primary' | 'danger'): Record<string, unknown> {
  return {
    type: 'button',
    text: { type: 'plain_text', text: truncate(text, SLACK_LIMITS.buttonText), emoji: true },
    action_id: actionId,
    value: value.slice(0, SLACK_LIMITS.buttonValue),
    ...(style ? { style } : {}),
  };
}

function blockTextLength(b: Block): number {
  return JSON.stringify(b).length;
}

export interface StatusOptions {
  /** Steps are streamed natively (task_update chunks): the status message shows no step detail. */
  streamingSteps: boolean;
  now?: number;
  /** Which edit of the message this is: Slack wants a new block_id per iteration of a message. */
  iteration?: number;
  /** Steps to show here when some are shown elsewhere (default all of them). */
  steps?: StepView[];
}

/** A block_id unique to one iteration of a message. */
function blockId(name: string, iteration = 0): string {
  return `${name}.${iteration}`;
}

/**
 * The status message of a thread: where the research stands, the latest steps (when not streamed
 * natively), a Stop button while it runs and a Retry button once a restart interrupted it. Older steps are summarised to stay within limits.
 */
export function renderStatus(view: ThreadView, opts: StatusOptions): SlackMessage {
  const finished = isFinished(view.status);
  const line = statusLine(view, opts.now);
  const blocks: Block[] = [section(line)];
  const tail: Block[] = [];
  if (!finished) {
    tail.push({ type: 'actions', block_id: blockId('cir_controls', opts.iteration), elements: [button('Stop', ACTION_STOP, view.sessionId, 'danger')] });
  } else if (view.status.state === 'interrupted') {
    tail.push({ type: 'actions', block_id: blockId('cir_controls', opts.iteration), elements: [button('Retry', ACTION_RETRY, view.sessionId, 'primary')] });
  }
  const steps = opts.steps ?? view.steps;
  if (!opts.streamingSteps && steps.length > 0) {
    if (finished) blocks.push(...compactSteps(steps));
    else blocks.push(...latestSteps(steps, MESSAGE_TEXT_MAX - blockTextLength(blocks[0]) - 400));
  }
  return { text: stripForFallback(line), blocks: [...blocks, ...tail] };
}

/** Newest steps in full that fit `budget`; the earlier ones as one context line. */
function latestSteps(steps: StepView[], budget: number): Block[] {
  const shown: Block[] = [];
  let used = 0;
  for (let i = steps.length - 1; i >= 0; i--) {
    const b = stepSection(steps[i]);
    const size = blockTextLength(b);
    if (used + size > budget || shown.length >= MESSAGE_BLOCKS_MAX - 4) break;
    shown.unshift(b);
    used += size;
  }
  const hidden = steps.length - shown.length;
  return hidden > 0
    ? [context(`${hidden} earlier ${plural(hidden, 'step')} not shown here; the full trace is attached when the research ends.`), ...shown]
    : shown;
}

/**
 * Steps as one plain message: a stream Slack closed under us is repaired into this with
 * chat.update. Every step is there once: the newest in full, older ones as summary lines if needed.
 */
export function renderSteps(steps: StepView[]): SlackMessage {
  const full: Block[] = [];
  let used = 0;
  let i = steps.length - 1;
  for (; i >= 0; i--) {
    const b = stepSection(steps[i]);
    const size = blockTextLength(b);
    if (used + size > MESSAGE_TEXT_MAX - 2500 || full.length >= MESSAGE_BLOCKS_MAX - 6) break;
    full.unshift(b);
    used += size;
  }
  const older = steps.slice(0, i + 1);
  const first = steps[0]?.n ?? 0;
  const last = steps.at(-1)?.n ?? 0;
  return {
    text: first === last ? `Step ${first}` : `Steps ${first}–${last}`,
    blocks: [...(older.length ? compactSteps(older) : []), ...full],
  };
}

/** Finished research: one line per step (what it looked at), no code. */
function compactSteps(steps: StepView[]): Block[] {
  const lines = steps.map((s) => `${s.n}. ${escapeMrkdwn(stepSummary(s))}${s.error ? ' :warning:' : ''}`);
  const pieces = splitMrkdwn(lines.join('\n'), SLACK_LIMITS.contextText - SAFETY_MARGIN).slice(0, 4);
  return pieces.map((p) => context(p));
}

function stripForFallback(mrkdwn: string): string {
  return truncate(mrkdwn.replace(/:[a-z_]+: /g, '').replace(/[*_`]/g, ''), 300);
}

/**
 * Streamed task for one code step. Its fields carry model and page text that Slack renders with
 * its markup: mentions and links (`<url|label>`, `[label](url)`) are defused.
 */
export function taskForStep(step: StepView, finalStatus?: ThreadStatus['state']): TaskUpdate {
  const status: TaskUpdate['status'] = step.error
    ? 'error'
    : step.observation !== null
      ? 'complete'
      : finalStatus && finalStatus !== 'researching'
        ? 'complete'
        : 'in_progress';
  const task: TaskUpdate = {
    type: 'task_update',
    id: `step-${step.n}`,
    title: truncate(defuseMarkup(`Step ${step.n}: ${stepSummary(step)}`), SLACK_LIMITS.taskTitle),
    status,
    details: truncate(defuseMarkup(step.code.trim()), SLACK_LIMITS.taskDetails),
  };
  const out = step.error ?? step.observation;
  if (out) task.output = truncateStart(defuseMarkup(out.trim()), SLACK_LIMITS.taskDetails);
  return task;
}

/** Replaces [n] markers with links to source n (kept as text when n is not a source). */
function linkCitations(mrkdwn: string, sources: SourceView[]): string {
  const byN = new Map(sources.map((s) => [s.n, s]));
  // Outside code: split on fences and inline code, touch only the text parts.
  return mrkdwn
    .split(/(```[\s\S]*?```|`[^`\n]*`|<[^>\n]*>)/)
    .map((part, i) =>
      i % 2 === 1
        ? part
        : part.replace(/\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]/g, (m, list: string) => {
            const ns = list.split(',').map((n) => Number(n.trim()));
            if (!ns.every((n) => byN.has(n))) return m;
            if (ns.length === 1) return link(byN.get(ns[0])!.url, `[${ns[0]}]`);
            return `[${ns.map((n) => link(byN.get(n)!.url, String(n))).join(', ')}]`;
          }),
    )
    .join('');
}

export function sourceLine(s: SourceView): string {
  const title = s.title.trim() || s.domain || s.url;
  const mark = s.status === 'read' ? '' : ' · _only seen in search results, not opened_';
  return `${s.n}. ${link(s.url, truncate(title, 150))} · ${escapeMrkdwn(s.domain)}${mark}`;
}

/**
 * The answer as one or more messages: the text (mrkdwn, cited), the numbered sources, and on the
 * last message the feedback buttons. Each message stays within the block and text limits.
 */
export function renderAnswer(view: ThreadView): SlackMessage[] {
  const answer = view.answer;
  if (!answer) return [];
  const body = linkCitations(markdownToMrkdwn(answer.text.trim() || '(empty answer)'), answer.sources);
  const blocks: Block[] = splitMrkdwn(body, SECTION_MAX).map(section);
  blocks.push(...answerTail(view));
  const messages = packMessages(blocks);
  // Fallback text is mrkdwn too: escaped so that no <!channel> or <@U…> in an answer can ping anyone.
  const preview = truncate(escapeMrkdwn(answer.text.replace(/\s+/g, ' ').trim()), 280);
  return messages.map((m, i) => ({
    text: messages.length > 1 ? `Answer (${i + 1}/${messages.length}): ${preview}` : `Answer: ${preview}`,
    blocks: m,
  }));
}

/** After the answer text: the numbered sources and Slack's native feedback buttons. */
export function answerTail(view: ThreadView): Block[] {
  const sources = view.answer?.sources ?? [];
  const blocks: Block[] = [];
  if (sources.length > 0) {
    const read = sources.filter((s) => s.status === 'read').length;
    const header = `*Sources* (${read} read${read < sources.length ? `, ${sources.length - read} only seen` : ''})`;
    splitMrkdwn(`${header}\n${sources.map(sourceLine).join('\n')}`, SECTION_MAX).forEach((p) => blocks.push(section(p)));
  }
  if (view.answer) blocks.push(...evidenceBlocks(view.answer));
  // Block Kit reference: a context_actions block holding a feedback_buttons element.
  blocks.push({
    type: 'context_actions',
    elements: [
      {
        type: 'feedback_buttons',
        action_id: ACTION_FEEDBACK,
        positive_button: { text: { type: 'plain_text', text: 'Helpful' }, accessibility_label: 'This answer was helpful', value: feedbackValue('up', view.sessionId) },
        negative_button: { text: { type: 'plain_text', text: 'Not helpful' }, accessibility_label: 'This answer was not helpful', value: feedbackValue('down', view.sessionId) },
      },
    ],
  });
  return blocks;
}

/**
 * The answer as Markdown for a stream's `markdown_text`: each [n] links to its source. Model text
 * is defused the same way as task fields, except the Markdown links the model wrote itself.
 */
export function answerMarkdown(view: ThreadView): string {
  const answer = view.answer;
  if (!answer) return '';
  const byN = new Map(answer.sources.map((s) => [s.n, s]));
  const safe = (url: string) => url.replace(/[()<>\s]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
  return (answer.text.trim() || '(empty answer)')
    .split(/(```[\s\S]*?```|`[^`\n]*`)/)
    .map((part, i) => {
      if (i % 2 === 1) return part;
      const text = defuseMarkup(part.replace(/<(https?:\/\/[^\s<>|]+)>/g, '$1')).replace(/\]\u200b\(/g, '](');
      return text.replace(/\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\](?!\()/g, (m, list: string) => {
        const ns = list.split(',').map((n) => Number(n.trim()));
        if (!ns.every((n) => byN.has(n))) return m;
        return `[${ns.map((n) => `[${n}](${safe(byN.get(n)!.url)})`).join(', ')}]`;
      });
    })
    .join('');
}

/** Groups blocks into messages under the per-message block and text limits, keeping order. */
export function packMessages(blocks: Block[]): Block[][] {
  const out: Block[][] = [];
  let cur: Block[] = [];
  let size = 0;
  for (const b of blocks) {
    const n = blockTextLength(b);
    if (cur.length > 0 && (cur.length >= MESSAGE_BLOCKS_MAX || size + n > MESSAGE_TEXT_MAX)) {
      out.push(cur);
      cur = [];
      size = 0;
    }
    cur.push(b);
    size += n;
  }
  if (cur.length) out.push(cur);
  return out;
}

/** A standalone note in the thread (notify): mrkdwn from Markdown-ish text. */
export function renderNote(text: string): SlackMessage {
  const body = markdownToMrkdwn(text);
  const pieces = splitMrkdwn(body, SECTION_MAX).slice(0, 4);
  return { text: truncate(escapeMrkdwn(text.replace(/\s+/g, ' ')), 300), blocks: pieces.map(section) };
}
