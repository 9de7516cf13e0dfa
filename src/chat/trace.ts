// Rebuilding a session from the store: its view (replaying the stored events through the reducer)
// and its complete trace as a Markdown document for download.
import type { ResearchEvent, Turn } from '../engine/events.ts';
import { buildAnswerView } from './citations.ts';
import type { SessionRecord, StoredEvent } from './store.ts';
import type { AnswerView, ThreadView } from './types.ts';
import { initialThreadView, isFinal, reduceThreadView, type ViewOptions } from './view.ts';

export function replayView(rec: SessionRecord, events: StoredEvent[], maxSteps: number, opts: ViewOptions = {}): ThreadView {
  let view = initialThreadView(rec.id, { ...rec.ref, userId: rec.userId, question: rec.question }, maxSteps, rec.createdAt);
  for (const e of events) {
    const stopped = e.event.type === 'cancelled' || e.event.type === 'error';
    // The stored status says how a stop ended: by someone (cancelled) or by a shutdown (interrupted).
    if (stopped && rec.status === 'interrupted') view = reduceThreadView(view, { type: 'interrupted' }, e.at, opts);
    else if (stopped && rec.status === 'cancelled')
      view = reduceThreadView(view, { type: 'cancelled', by: rec.cancelledBy ?? undefined }, e.at, opts);
    else if (e.event.type === 'cancelled') view = reduceThreadView(view, { type: 'cancelled' }, e.at, opts);
    else view = reduceThreadView(view, e.event, e.at, opts);
  }
  if (!isFinal(view)) {
    const at = rec.finishedAt ?? rec.createdAt;
    if (rec.status === 'interrupted') view = reduceThreadView(view, { type: 'interrupted' }, at, opts);
    else if (rec.status === 'cancelled') view = reduceThreadView(view, { type: 'cancelled', by: rec.cancelledBy ?? undefined }, at, opts);
    else if (rec.status === 'done' && rec.answer != null)
      // Trace pruned (retention): the answer is still in the session row.
      view = reduceThreadView(
        view,
        { type: 'answer', text: rec.answer, citations: rec.citations ?? [], steps: rec.steps ?? 0, usage: { promptTokens: 0, completionTokens: 0 }, durationMs: 0 },
        at,
        opts,
      );
    else if (rec.status === 'failed') view = reduceThreadView(view, { type: 'error', message: rec.error ?? 'failed', retryable: false }, at, opts);
  }
  return view;
}

/** A finished session as a turn for a follow-up: the answer as shown, with its sources listed. */
export function turnOf(rec: SessionRecord): Turn | null {
  if (rec.status !== 'done' || rec.answer == null) return null;
  const a = buildAnswerView(rec.answer, rec.citations ?? []);
  const sources = a.sources.map((s) => `[${s.n}] ${s.title} — ${s.url}`).join('\n');
  return { question: rec.question, answer: sources ? `${a.text}\n\nSources:\n${sources}` : a.text };
}

/** Why the engine asked for the answer early; every reason the engine emits has its own words. */
export const CONCLUDING_REASON: Record<Extract<ResearchEvent, { type: 'concluding' }>['reason'], string> = {
  steps: 'step budget exhausted',
  context: 'context exhausted',
  stalled: 'the model stalled without code or an answer',
};

const iso = (at: number) => new Date(at).toISOString();

function fenced(text: string, lang = ''): string {
  // A fence longer than any backtick run inside, so the content cannot close it.
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}${lang}\n${text}\n${fence}`;
}

/** Every step with its full observation, the answer and its sources. */
export function renderTrace(rec: SessionRecord, events: StoredEvent[]): string {
  const out: string[] = [];
  out.push(`# Research trace ${rec.id}`, '');
  out.push(`- Question: ${rec.question.replace(/\s+/g, ' ')}`);
  out.push(`- Asked by: ${rec.userId} (${rec.ref.platform})`);
  out.push(`- Status: ${rec.status}${rec.cancelledBy ? ` (stopped by ${rec.cancelledBy})` : ''}`);
  out.push(`- Created: ${iso(rec.createdAt)}`);
  if (rec.startedAt) out.push(`- Started: ${iso(rec.startedAt)}`);
  if (rec.finishedAt) out.push(`- Finished: ${iso(rec.finishedAt)}`);
  out.push('');
  for (const { event: e, at } of events) {
    switch (e.type) {
      case 'started':
        out.push(`## Started (at most ${e.maxSteps} steps) — ${iso(at)}`, '');
        break;
      case 'thinking':
        out.push('### Thinking', '', e.text.trim(), '');
        break;
      case 'code':
        out.push(`## Step ${e.step}`, '', fenced(e.code, 'python'), '');
        break;
      case 'tool':
        out.push(`- ${e.name}(${JSON.stringify(e.arg)})`);
        break;
      case 'observation':
        out.push('', `### Observation (step ${e.step}, ${e.durationMs} ms${e.stateLost ? ', interpreter state lost' : ''})`, '');
        out.push(fenced(e.output), '');
        if (e.error) out.push(`Error: ${e.error}`, '');
        break;
      case 'writing':
        out.push('## Writing the answer', '');
        break;
      case 'concluding':
        out.push(`## Concluding (${CONCLUDING_REASON[e.reason]})`, '');
        break;
      case 'answer': {
        const a = buildAnswerView(e.text, e.citations, e.claims);
        out.push('## Answer', '', a.text, '');
        if (a.sources.length) {
          out.push('### Sources', '');
          for (const s of a.sources) out.push(`${s.n}. ${s.title} — ${s.url} (${s.status})`);
          out.push('');
        }
        if (a.claims?.length) out.push(...claimsSection(a), '');
        const dropped = e.citations.filter((c) => c.status === 'unseen');
        if (dropped.length) {
          out.push('### Citations dropped (never seen in this session)', '');
          for (const c of dropped) out.push(`- ${c.url}`);
          out.push('');
        }
        out.push(
          `(${e.steps} steps, ${e.usage.promptTokens} prompt + ${e.usage.completionTokens} completion tokens, ${e.durationMs} ms)`,
          '',
        );
        break;
      }
      case 'error':
        out.push(`## Error`, '', e.message, '');
        break;
      case 'cancelled':
        out.push('## Cancelled', '');
        break;
    }
  }
  return out.join('\n');
}

/** Every cited claim with its verdict and the quotes of its sources, each quote with its page's URL. */
function claimsSection(a: AnswerView): string[] {
  const url = new Map(a.sources.map((s) => [s.n, s.url]));
  const out = ['### Claims and their evidence', ''];
  for (const c of a.claims ?? []) {
    const cites = c.citations.map((n) => `[${n}]`).join('');
    out.push(`- ${c.supported ? 'supported' : 'NOT SUPPORTED by its cited sources'}: ${c.text.replace(/\s+/g, ' ')} ${cites}`);
    for (const q of c.quotes) out.push(`  > [${q.n}] "${q.text}" — ${url.get(q.n) ?? ''}`);
  }
  return out;
}
