// The thread view model: a pure reducer from research events to what a thread shows. Platforms
// render ThreadView; they keep no state of their own.
import type { ResearchEvent } from '../engine/events.ts';
import { buildAnswerView } from './citations.ts';
import { trimObservation } from './text.ts';
import type { ResearchRequest, StepView, ThreadStatus, ThreadView } from './types.ts';
import { forChat } from '../util/scrub.ts';

/** Research events plus the chat layer's own: queue position, who cancelled, interrupted. */
export type ViewEvent =
  | Exclude<ResearchEvent, { type: 'cancelled' }>
  | { type: 'queued'; ahead: number }
  | { type: 'cancelled'; by?: string }
  | { type: 'interrupted' };

export interface ViewOptions {
  /** Characters of an observation kept in StepView.observation. Default 600. */
  observationChars?: number;
}

export function initialThreadView(
  sessionId: string,
  req: Pick<ResearchRequest, 'platform' | 'workspaceId' | 'channelId' | 'threadId' | 'userId' | 'question'>,
  maxSteps: number,
  now: number,
  ahead = 0,
): ThreadView {
  return {
    sessionId,
    ref: { platform: req.platform, workspaceId: req.workspaceId, channelId: req.channelId, threadId: req.threadId },
    userId: req.userId,
    question: req.question,
    status: { state: 'queued', ahead },
    maxSteps,
    steps: [],
    answer: null,
    startedAt: now,
    finishedAt: null,
  };
}

const FINAL = new Set<ThreadStatus['state']>(['done', 'failed', 'cancelled', 'interrupted']);

export function isFinal(view: ThreadView): boolean {
  return FINAL.has(view.status.state);
}

function withStep(view: ThreadView, n: number, change: (s: StepView) => StepView): StepView[] {
  let found = false;
  const steps = view.steps.map((s) => {
    if (s.n !== n) return s;
    found = true;
    return change(s);
  });
  if (!found) steps.push(change({ n, code: '', observation: null, observationFull: null, error: null, tools: [] }));
  return steps;
}

/**
 * Applies one event. Pure: returns a new view (or the same one when nothing changes). A final
 * view (done, failed, cancelled, interrupted) never changes again.
 */
export function reduceThreadView(view: ThreadView, ev: ViewEvent, now: number, opts: ViewOptions = {}): ThreadView {
  if (isFinal(view)) return view;
  const obsChars = opts.observationChars ?? 600;
  const running = (step: number): ThreadStatus => ({ state: 'researching', step, maxSteps: view.maxSteps });
  switch (ev.type) {
    case 'queued':
      return { ...view, status: { state: 'queued', ahead: ev.ahead } };
    case 'started':
      return {
        ...view,
        maxSteps: ev.maxSteps,
        status: { state: 'researching', step: Math.max(1, view.steps.length), maxSteps: ev.maxSteps },
      };
    case 'thinking':
      if (view.status.state === 'queued') return { ...view, status: running(1) };
      return view;
    case 'code':
      return {
        ...view,
        status: running(ev.step),
        steps: withStep(view, ev.step, (s) => ({ ...s, code: ev.code })),
      };
    case 'tool':
      return {
        ...view,
        steps: withStep(view, ev.step, (s) => ({ ...s, tools: [...s.tools, { name: ev.name, arg: ev.arg }] })),
      };
    case 'observation':
      return {
        ...view,
        steps: withStep(view, ev.step, (s) => ({
          ...s,
          observation: trimObservation(ev.output, obsChars),
          observationFull: ev.output,
          error: ev.error,
        })),
      };
    case 'writing':
    case 'concluding':
      return { ...view, status: { state: 'writing' } };
    case 'answer':
      return {
        ...view,
        status: { state: 'done' },
        answer: buildAnswerView(ev.text, ev.citations, ev.claims),
        finishedAt: now,
      };
    case 'error':
      // The engine's message names the server for the operator; chat users do not see addresses.
      return { ...view, status: { state: 'failed', message: forChat(ev.message) }, finishedAt: now };
    case 'cancelled':
      return { ...view, status: ev.by ? { state: 'cancelled', by: ev.by } : { state: 'cancelled' }, finishedAt: now };
    case 'interrupted':
      return { ...view, status: { state: 'interrupted' }, finishedAt: now };
  }
}
