// Renders a research event stream in a terminal: live thinking (dimmed), each step's code, its
// tool calls, a trimmed observation, progress, then the answer with numbered sources. The --json
// form is one event per line (the contract scripts rely on).
import { markUnsupported, UNSUPPORTED_MARK } from '../../chat/claims.ts';
import type { Claim, ResearchEvent } from '../../engine/events.ts';

export interface Out {
  write(s: string): unknown;
}

export function jsonRenderer(out: Out): (e: ResearchEvent) => void {
  return (e) => out.write(`${JSON.stringify(e)}\n`);
}

export interface HumanOptions {
  color: boolean;
  /** Observation lines shown per step (the model saw all of it). */
  observationLines?: number;
}

// Terminal control sequences (CSI, OSC such as clipboard writes or titles, other escapes), C0/C1
// controls except newline and tab, and carriage returns that would overwrite lines.
const CONTROL = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]?|[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

/** Text from the web and the model may carry escape sequences: it is shown, never obeyed. */
export function plain(s: string): string {
  return s.replace(CONTROL, '');
}

export function humanRenderer(out: Out, opts: HumanOptions): (e: ResearchEvent) => void {
  const c = (code: string) => (s: string) => (opts.color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const dim = c('2');
  const bold = c('1');
  const cyan = c('36');
  const red = c('31');
  const green = c('32');
  const yellow = c('33');
  const maxLines = opts.observationLines ?? 12;
  let maxSteps = 0;
  let atLineStart = true;
  const line = (s = '') => {
    if (!atLineStart) out.write('\n');
    out.write(`${s}\n`);
    atLineStart = true;
  };

  return (raw) => {
    const e = cleanEvent(raw);
    switch (e.type) {
      case 'started':
        maxSteps = e.maxSteps;
        line(bold(`Researching: ${e.question}`));
        break;
      case 'thinking':
        out.write(dim(e.text));
        atLineStart = e.text.endsWith('\n');
        break;
      case 'code':
        line(cyan(`── step ${e.step}/${maxSteps} ${'─'.repeat(40)}`));
        for (const l of e.code.split('\n')) line(`  ${l}`);
        break;
      case 'tool':
        line(yellow(`  → ${e.name}(${JSON.stringify(e.arg)})`));
        break;
      case 'observation': {
        const lines = e.output.split('\n');
        const shown = lines.slice(0, maxLines).map((l) => (l.length > 160 ? `${l.slice(0, 159)}…` : l));
        line(dim(`  output (${(e.durationMs / 1000).toFixed(1)} s)${e.stateLost ? ' — interpreter restarted' : ''}:`));
        for (const l of shown) line((e.error ? red : dim)(`  │ ${l}`));
        if (lines.length > maxLines) line(dim(`  │ … ${lines.length - maxLines} more lines`));
        break;
      }
      case 'writing':
        line(cyan('── writing the answer ──'));
        break;
      case 'concluding':
        line(yellow(`── concluding: ${e.reason === 'steps' ? 'step budget spent' : e.reason === 'context' ? 'context is full' : 'the model stalled'} ──`));
        break;
      case 'answer': {
        line();
        line(bold('Answer'));
        const claims = e.claims ?? [];
        line(claims.length ? markUnsupported(e.text, claims).split(UNSUPPORTED_MARK).join(red(UNSUPPORTED_MARK)) : e.text);
        if (e.citations.length) {
          line();
          line(bold('Sources'));
          const quotes = quotesOf(claims);
          for (const s of e.citations) {
            const mark = s.status === 'read' ? green('read') : s.status === 'seen' ? yellow('seen in search results only') : red('NOT SEEN in the research: unverified');
            line(`  [${s.n}] ${s.title} — ${s.url} (${mark})`);
            for (const q of quotes.get(s.n) ?? []) line(dim(`      “${q}”`));
          }
        }
        const unsupported = claims.filter((c) => !c.supported).length;
        if (unsupported) line(red(`${unsupported} of ${claims.length} cited claims were not found in their cited sources.`));
        line(dim(`${e.steps} steps, ${(e.durationMs / 1000).toFixed(1)} s, ${e.usage.promptTokens + e.usage.completionTokens} tokens`));
        break;
      }
      case 'error':
        line(red(`Error: ${e.message}`));
        break;
      case 'cancelled':
        line(yellow('Cancelled.'));
        break;
    }
  };
}

/** The event with every text field made plain (the renderer's own colours are added afterwards). */
function cleanEvent(e: ResearchEvent): ResearchEvent {
  return JSON.parse(JSON.stringify(e), (_key, value: unknown) => (typeof value === 'string' ? plain(value) : value)) as ResearchEvent;
}

/** Each source's supporting quotes (engine numbering), in answer order, without repeats. */
function quotesOf(claims: readonly Claim[]): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const c of claims)
    for (const q of c.quotes) {
      const list = out.get(q.n) ?? [];
      if (!list.includes(q.text)) list.push(q.text);
      out.set(q.n, list);
    }
  return out;
}
