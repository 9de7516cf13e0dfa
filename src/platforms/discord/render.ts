// Pure rendering of a ThreadView into Discord message contents (markdown, <= 2000 characters each).
// The live status message shows the status line and the latest steps; finished steps that no
// longer fit are frozen into earlier messages. The answer is split at paragraph boundaries and
// followed by numbered sources whose link previews are suppressed with <url>.
import { evidenceNote, quotesToShow } from '../../chat/claims.ts';
import { statusLine } from '../../chat/messages.ts';
import { splitMessage, trimObservation } from '../../chat/text.ts';
import type { SourceView, StepView, ThreadView } from '../../chat/types.ts';
import { DISCORD_LIMITS, DISCORD_QUOTES, STEP_DISPLAY } from './limits.ts';

const MAX = DISCORD_LIMITS.messageChars;

/** Breaks runs of backticks so text cannot close the code block it is shown in. */
export function defuseFences(s: string): string {
  return s.replace(/`{3,}/g, (m) => m.split('').join('\u200b'));
}

/** Plain text safe inside inline markdown: no markup, no masked-link syntax, one line. */
export function plainInline(s: string, max: number): string {
  const one = s
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/\[/g, '(')
    .replace(/\]/g, ')')
    .replace(/[\\*_~`|<>#]/g, (c) => '\\' + c);
  return one.length > max ? one.slice(0, max - 1) + '…' : one;
}

function oneLine(s: string, max: number): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > max ? one.slice(0, max - 1) + '…' : one;
}

/** Wraps bare http(s) URLs in <...> so Discord shows no preview for them. */
export function suppressPreviews(text: string): string {
  return text.replace(/(<?)(https?:\/\/[^\s<>]+[^\s<>.,;:!?'")\]])(>?)/g, (all, open: string, url: string, close: string) =>
    open === '<' && close === '>' ? all : `${open}<${url}>${close}`,
  );
}

function trimLines(s: string, maxChars: number, maxLines: number): string {
  const lines = s.replace(/\s+$/, '').split('\n');
  let out = lines.slice(0, maxLines).join('\n');
  let cut = lines.length - Math.min(lines.length, maxLines);
  if (out.length > maxChars) {
    out = out.slice(0, maxChars);
    cut = Math.max(cut, 1);
  }
  return cut > 0 || out.length < s.trim().length ? `${out}\n# … (trimmed; the full code is in the trace)` : out;
}

const STATUS_ICON: Record<ThreadView['status']['state'], string> = {
  queued: '⏳',
  researching: '🔎',
  writing: '✍️',
  done: '✅',
  failed: '⚠️',
  cancelled: '⏹️',
  interrupted: '⚠️',
};

/** First line of the live message, e.g. "🔎 **Researching: step 3 of at most 32**". */
export function statusHeader(view: ThreadView): string {
  const text = oneLine(statusLine(view.status, (id) => `<@${id}>`), 300).replace(/\*/g, '\\*');
  let line = `${STATUS_ICON[view.status.state]} **${text}**`;
  if (view.status.state === 'done' && view.finishedAt) {
    const secs = Math.max(1, Math.round((view.finishedAt - view.startedAt) / 1000));
    line += ` · ${view.steps.length} step${view.steps.length === 1 ? '' : 's'} · ${secs} s`;
  }
  return line;
}

/** One step: label with its tool calls, the code in a ```py block, a trimmed observation. */
export function stepBlock(step: StepView): string {
  const tools = step.tools.map((t) => `\`${t.name}(${oneLine(t.arg, 80).replace(/`/g, "'")})\``).join(' ');
  const head = `**Step ${step.n}**${tools ? ' · ' + tools : ''}`;
  const code = defuseFences(trimLines(step.code || '# (no code)', STEP_DISPLAY.codeChars, STEP_DISPLAY.codeLines));
  const parts = [head, '```py\n' + code + '\n```'];
  const obs = step.error ?? step.observation;
  if (obs !== null && obs !== undefined) {
    let text = trimObservation(obs, STEP_DISPLAY.observationChars);
    const lines = text.split('\n');
    if (lines.length > STEP_DISPLAY.observationLines)
      text = lines.slice(0, STEP_DISPLAY.observationLines).join('\n') + `\n… (${lines.length - STEP_DISPLAY.observationLines} more lines)`;
    parts.push((step.error ? '⚠️ error:\n' : '') + '```text\n' + (defuseFences(text) || '(no output)') + '\n```');
  }
  let block = parts.join('\n');
  if (block.length > STEP_DISPLAY.blockChars) block = block.slice(0, STEP_DISPLAY.blockChars - 20) + '\n```\n(trimmed)';
  return block;
}

export interface LivePlan {
  /** Messages of finished steps to freeze before the live message, with how many steps each holds. */
  freeze: { content: string; steps: number }[];
  /** The live status message. */
  live: string;
}

/**
 * Lays out the steps after the `frozen` first ones. While running, an overflowing live message
 * keeps only the current step and freezes the rest; a final view keeps the longest tail that fits.
 */
export function planLive(view: ThreadView, frozen: number, max: number = MAX): LivePlan {
  const header = statusHeader(view);
  const blocks = view.steps.slice(frozen).map(stepBlock);
  const join = (bs: string[]) => [header, ...bs].join('\n');
  if (join(blocks).length <= max) return { freeze: [], live: join(blocks) };
  let keep = 1;
  const final = !['queued', 'researching', 'writing'].includes(view.status.state);
  if (final || view.status.state === 'writing') {
    keep = 0;
    while (keep < blocks.length && join(blocks.slice(blocks.length - keep - 1)).length <= max) keep++;
  }
  const toFreeze = blocks.slice(0, blocks.length - keep);
  const freeze: LivePlan['freeze'] = [];
  for (const b of toFreeze) {
    const last = freeze[freeze.length - 1];
    if (last && last.content.length + 1 + b.length <= max) {
      last.content += '\n' + b;
      last.steps += 1;
    } else freeze.push({ content: b, steps: 1 });
  }
  return { freeze, live: join(blocks.slice(blocks.length - keep)) };
}

function sourceLine(s: SourceView): string {
  const title = plainInline(s.title || s.domain || s.url, 120);
  const url = s.url.replace(/[<>\s]/g, encodeURIComponent);
  const how = s.status === 'read' ? 'read' : 'only seen in search results, not opened';
  return `\`[${s.n}]\` [${title}](<${url}>) · ${plainInline(s.domain, 60)} · *${how}*`;
}

/** The answer as messages under `max` characters: text split at paragraphs, then the sources. */
export function answerMessages(view: ThreadView, max: number = MAX): string[] {
  const answer = view.answer;
  if (!answer) return [];
  const mention = `<@${view.userId}> `;
  const text = suppressPreviews(answer.text.trim() || '(empty answer)');
  const parts = splitMessage(text, max - mention.length);
  parts[0] = mention + parts[0];
  if (!answer.sources.length) return parts;
  const read = answer.sources.filter((s) => s.status === 'read').length;
  const { bySource, omitted } = quotesToShow(answer, DISCORD_QUOTES);
  const lines = [`**Sources** (${read} read, ${answer.sources.length - read} only seen)`];
  for (const s of answer.sources) {
    lines.push(sourceLine(s));
    // Page text is shown, never obeyed: no markup, no links, no mentions.
    for (const q of bySource.get(s.n) ?? []) lines.push(`> “${plainInline(q, 320)}”`);
  }
  const note = evidenceNote(answer, omitted);
  if (note) lines.push(`*${plainInline(note, 300)}*`);
  let block = '';
  const blocks: string[] = [];
  for (const line of lines) {
    const l = line.length > max ? line.slice(0, max) : line;
    if (block && block.length + 1 + l.length > max) {
      blocks.push(block);
      block = l;
    } else block = block ? block + '\n' + l : l;
  }
  if (block) blocks.push(block);
  const last = parts[parts.length - 1];
  if (last.length + 2 + blocks[0].length <= max) parts[parts.length - 1] = last + '\n\n' + blocks.shift();
  return [...parts, ...blocks];
}

/** The thread's name: the question's first line, within Discord's 100 characters. */
export function threadName(question: string): string {
  const line = question.split('\n').find((l) => l.trim())?.trim() ?? 'Research';
  const max = DISCORD_LIMITS.threadNameChars;
  return line.length > max ? line.slice(0, max - 1) + '…' : line;
}

/** The message that starts a /research thread. */
export function starterText(question: string): string {
  const q = question.replace(/\s+/g, ' ').trim();
  const room = MAX - 60;
  return `🔎 **Research:** ${q.length > room ? q.slice(0, room - 1) + '…' : q}`;
}

export function helpText(): string {
  return [
    "Ask me a research question and I'll search the web, read pages, run Python and answer in a thread with numbered sources.",
    '• `/research question: …`, or mention me with the question in a channel',
    '• reply in the research thread to ask a follow-up',
    '• say `stop` in the thread (or press **Stop**) to cancel',
  ].join('\n');
}
