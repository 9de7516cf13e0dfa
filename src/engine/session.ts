// One research session: the CIR loop. Generate a turn; if it asks for code, run it in the session's
// own interpreter and append what it printed; repeat until the model closes its reasoning and
// answers, or the budget runs out and it is asked to conclude. Every prompt is the previous one
// plus new text (byte-identical prefix), so the server's prefix cache is reused each turn.
import type { HostTools, Sandbox, SandboxSession } from '../sandbox/types.ts';
import type { SearchProvider, SearchResult, VisitedPage } from '../tools/types.ts';
import type { Logger } from '../util/log.ts';
import type { ResearchEvent, ResearchInput, Usage } from './events.ts';
import { untilAborted } from './abort.ts';
import { claimsOf } from './claims.ts';
import { rewriteCitations } from './citations.ts';
import { SourcesLedger } from './ledger.ts';
import { AbortedError, LlmError, type GenerateResult, type LlmClient } from './llm.ts';
import { boundHistory } from './history.ts';
import { describeRun, formatObservation, type RunText } from './observation.ts';
import { classifyTurn, cleanAnswer, extractCode } from './parse.ts';
import { type PromptTexts, initialPrompt } from './prompts.ts';
import { START_CODE, STOP, THINK_CLOSE, observationText } from './protocol.ts';
import { writeReport } from './report.ts';
import { ThinkingFilter } from './thinking.ts';
import type { TokenCounter } from './tokens.ts';

export interface PageVisitor {
  visit(url: string, signal?: AbortSignal): Promise<VisitedPage>;
}

export interface SessionDeps {
  llm: LlmClient;
  tokens: TokenCounter;
  texts: PromptTexts;
  sandbox: Sandbox;
  search: SearchProvider;
  visitor: PageVisitor;
  formatSearch: (results: SearchResult[], query: string) => string;
  /** What web_visit returns for a page (default: its text) and for a failed visit (default: raise). */
  formatVisit?: (page: VisitedPage) => string;
  formatVisitError?: (url: string, err: unknown) => string;
  maxSteps: number;
  stepTimeoutMs: number;
  observationTokens: number;
  maxTokens: number;
  contextTokens: number;
  report: boolean;
  logger: Logger;
  now: () => Date;
}

/** Room kept free for concluding: one more observation plus a final answer. */
const ANSWER_RESERVE = 4096;
/** Smallest useful research turn: with less room left than this (after the reserve), conclude. */
const MIN_TURN = 256;
/** Turns allowed after being asked to conclude, or after an empty answer (the model may try code once more). */
const CONCLUDE_TURNS = 2;
const NO_MORE_CODE = 'Error: the research budget is spent; no more code can run. Write the final answer now.';
// (Our own texts never write the protocol's tags: in the prompt they would read as the real tokens.)
const NO_CODE_AFTER_THINK = 'Error: code written after the reasoning was closed is not run; all code belongs to the reasoning. Write the final answer now.';
// Worded without the protocol tags: observations are neutralised, so tags here would reach the
// model defaced.
const NO_CODE_FOUND =
  'Error: no code block found. Put the code in a ```python fence between the start and end code tags, exactly as the instructions show.';
const CUT_CODE = 'Error: this code block was cut off by the length limit before it was closed, so it was not run. Write shorter code.';

type Emit = (e: ResearchEvent) => void;

export async function runSession(deps: SessionDeps, input: ResearchInput, emitEvent: Emit, signal: AbortSignal): Promise<void> {
  const t0 = Date.now();
  let outcome = 'none';
  const emit: Emit = (e) => {
    if (e.type === 'answer' || e.type === 'error' || e.type === 'cancelled') outcome = e.type;
    emitEvent(e);
  };
  const sessionId = input.sessionId ?? crypto.randomUUID();
  const log = deps.logger.child({ sessionId });
  emit({ type: 'started', sessionId, question: input.question, maxSteps: deps.maxSteps, at: t0 });

  const ledger = new SourcesLedger();
  let step = 0;
  const tools: HostTools = {
    async webSearch(query, numResults, stepSignal) {
      emit({ type: 'tool', step, name: 'web_search', arg: query });
      const n = Math.min(Math.max(Math.trunc(numResults) || 10, 1), 20);
      const results = await deps.search.search(query, n, stepSignal ? AbortSignal.any([signal, stepSignal]) : signal);
      for (const r of results) ledger.seen(r.url, r.title, r.preview);
      return deps.formatSearch(results, query);
    },
    async webVisit(url, stepSignal) {
      emit({ type: 'tool', step, name: 'web_visit', arg: url });
      let page: VisitedPage;
      try {
        // The step's end (its timeout) stops the fetch and the parse job too, not just the session's.
        page = await deps.visitor.visit(url, stepSignal ? AbortSignal.any([signal, stepSignal]) : signal);
      } catch (err) {
        // A failed visit is text the model reads (when the tools say how), never a read source.
        if (deps.formatVisitError && !signal.aborted) return deps.formatVisitError(url, err);
        throw err;
      }
      ledger.read(url, page.title, page.text);
      if (page.finalUrl && page.finalUrl !== url) ledger.read(page.finalUrl, page.title, page.text);
      return deps.formatVisit ? deps.formatVisit(page) : page.text;
    },
  };
  // Opened now so that an interpreter starts while the model writes the first block; the sandbox
  // session lives as long as the research session (its interpreter only while it needs one).
  let sandboxSession: Promise<SandboxSession> | null = deps.sandbox.open(tools);
  sandboxSession.catch(() => undefined); // a failure is reported at the first code block

  const usage: Usage = { promptTokens: 0, completionTokens: 0 };
  // A server started with a shorter context than configured (e.g. without the card's rope
  // scaling) would reject long prompts: plan with the smaller of the two.
  const served = await untilAborted(deps.llm.servedContext(), signal).catch(() => null);
  const contextTokens = served ? Math.min(served, deps.contextTokens) : deps.contextTokens;
  // A tokenizer failure (or a cancel) here costs the follow-up its context, never the session.
  const history = await boundHistory(input.history ?? [], deps.tokens, signal).catch(() => []);
  let { prompt, assistantStart } = initialPrompt(deps.texts, input.question, history, deps.now());
  // Context accounting: tokens known exactly up to `countedLen` of the prompt, bytes after it.
  let counted = 0;
  let countedLen = 0;
  let concluding = false;
  let concludeTurns = 0;
  let answerTurns = 0;
  let nudged = false;
  // Where the answer starts: just after the </think> that closed the reasoning (the model's own,
  // or one in the conclude text). Our other texts may mention the tag; they never count.
  let closeAt = -1;

  const conclude = (reason: 'steps' | 'context' | 'stalled') => {
    concluding = true;
    emit({ type: 'concluding', reason });
    const i = deps.texts.conclude.lastIndexOf(THINK_CLOSE);
    if (i >= 0) {
      closeAt = prompt.length + i + THINK_CLOSE.length;
      emit({ type: 'writing' });
    }
    prompt += deps.texts.conclude;
  };

  const finishWith = async (rawAnswer: string) => {
    let answer = rawAnswer;
    if (deps.report) {
      const transcript = prompt.slice(assistantStart);
      answer = (await writeReport(deps, input.question, transcript, signal).catch((err: unknown) => {
        if (err instanceof AbortedError) throw err;
        log.warn({ err: String(err) }, 'report call failed; keeping the research answer');
        return null;
      })) ?? answer;
    }
    const { text, citations } = rewriteCitations(answer, ledger);
    const claims = claimsOf(text, citations, (url) => ledger.evidence(url));
    emit({ type: 'answer', text, citations, claims, steps: step, usage: { ...usage }, durationMs: Date.now() - t0 });
  };

  try {
    for (;;) {
      if (signal.aborted) throw new AbortedError();
      // How much context is used: exact up to the last count, an upper bound (bytes) after it.
      let used = counted + Buffer.byteLength(prompt.slice(countedLen));
      // Room kept free until concluding: the next observation, then the conclusion and the answer.
      const reserve = ANSWER_RESERVE + deps.observationTokens;
      // Count exactly whenever the estimate would limit the turn or call for concluding.
      if (used + reserve + Math.max(MIN_TURN, deps.maxTokens) > contextTokens || used > contextTokens - 64) {
        counted = await deps.tokens.count(prompt, signal);
        countedLen = prompt.length;
        used = counted;
      }
      if (!concluding && used + reserve + MIN_TURN > contextTokens) {
        conclude('context');
        used += Buffer.byteLength(deps.texts.conclude);
      }
      const room = contextTokens - used;
      if (room < 64) {
        emit({ type: 'error', message: `The model's context (${contextTokens} tokens) filled up before an answer was written.`, retryable: false });
        return;
      }
      // A research turn may not eat the reserve, so that asking to conclude always has room to work.
      const turnTokens = Math.min(deps.maxTokens, concluding ? room : room - reserve);

      const filter = new ThinkingFilter(closeAt >= 0);
      const onText = (d: string) => {
        const t = filter.push(d);
        if (t.thinking) emit({ type: 'thinking', text: t.thinking });
        if (t.closed) emit({ type: 'writing' });
      };
      const r: GenerateResult = await deps.llm.generate({ prompt, maxTokens: turnTokens, stop: STOP, signal, onText, log });
      const tail = filter.flush();
      if (tail) emit({ type: 'thinking', text: tail });
      if (r.usage) {
        usage.promptTokens += r.usage.promptTokens;
        usage.completionTokens += r.usage.completionTokens;
      }
      log.debug({ finish: r.finish, finishReason: r.finishReason, matchedStop: r.matchedStop, chars: r.text.length }, 'turn');
      // A turn that stopped on <end_code> is research in progress, whatever it wrote before the
      // block (even a </think>: the training data never had one there, and the reference harness
      // looks only at the stop). The answer comes from a turn that ends without code.
      const closeInTurn = r.text.lastIndexOf(THINK_CLOSE);
      const stoppedOnCode = r.finish === 'stop' && r.text.includes(START_CODE);
      if (closeInTurn >= 0 && (concluding || !stoppedOnCode)) {
        closeAt = prompt.length + closeInTurn + THINK_CLOSE.length;
      }
      prompt += r.text;
      if (r.usage) {
        counted = r.usage.promptTokens + r.usage.completionTokens;
        countedLen = prompt.length;
      }
      const kind = classifyTurn(r.text, r.finish);

      if (closeAt >= 0) {
        // The reasoning is closed (by the model or by the conclude text): what follows is the answer.
        // Code there never runs, since all code belongs before </think>.
        const answer = cleanAnswer(prompt.slice(closeAt));
        if (answer) return await finishWith(answer);
        if (++answerTurns < CONCLUDE_TURNS) {
          if (r.finish === 'stop' || prompt.slice(closeAt).includes(START_CODE)) {
            // Code instead of an answer: the model is told, and its answer starts after that.
            prompt += observationText(concluding ? NO_MORE_CODE : NO_CODE_AFTER_THINK);
            closeAt = prompt.length;
          }
          // An empty answer: generate once more from the same prompt (a prefix-cache hit).
          continue;
        }
        const message = concluding
          ? 'The model stopped without writing an answer, even when asked to conclude.'
          : 'The model closed its reasoning but wrote no answer.';
        emit({ type: 'error', message, retryable: true });
        return;
      }
      if (concluding) {
        if (r.finish === 'stop' && ++concludeTurns < CONCLUDE_TURNS) {
          prompt += observationText(NO_MORE_CODE);
          continue;
        }
        // The model never closed its reasoning: its last words are the best answer there is.
        const last = r.text.split(START_CODE)[0].trim();
        if (last) return await finishWith(last);
        emit({ type: 'error', message: 'The model stopped without writing an answer, even when asked to conclude.', retryable: true });
        return;
      }
      if (kind.kind === 'none') {
        if (nudged) conclude('stalled');
        else {
          nudged = true;
          prompt += deps.texts.nudge;
        }
        continue;
      }

      // A code step (or a malformed one, answered with an error the model can act on).
      step++;
      let output: RunText;
      let error: string | null = null;
      let stateLost = false;
      let durationMs = 0;
      if (kind.kind === 'code') {
        emit({ type: 'code', step, code: kind.code });
        sandboxSession ??= deps.sandbox.open(tools);
        const session = await sandboxSession.catch((err: unknown) => {
          sandboxSession = null;
          throw new Error(`the Python sandbox could not start: ${(err as Error)?.message ?? String(err)}`);
        });
        const res = await session.run(kind.code, { timeoutMs: deps.stepTimeoutMs, signal });
        if (res.stopped === 'cancelled' || signal.aborted) throw new AbortedError();
        ({ error, stateLost, durationMs } = res);
        output = describeRun(res, deps.stepTimeoutMs);
      } else {
        const code = kind.kind === 'cut-code' ? extractCode(r.text.slice(r.text.lastIndexOf(START_CODE) + START_CODE.length)) : '';
        emit({ type: 'code', step, code });
        error = kind.kind === 'cut-code' ? CUT_CODE : NO_CODE_FOUND;
        output = { output: '', error };
      }
      const shown = await formatObservation(output, deps.tokens, deps.observationTokens, signal);
      emit({ type: 'observation', step, output: shown, error, stateLost, durationMs });
      prompt += observationText(shown);
      if (step >= deps.maxSteps) conclude('steps');
    }
  } catch (err) {
    if (err instanceof AbortedError || signal.aborted) {
      emit({ type: 'cancelled' });
      return;
    }
    if (err instanceof LlmError) {
      emit({ type: 'error', message: err.message, retryable: err.retryable });
      return;
    }
    log.error({ err }, 'research session failed');
    emit({ type: 'error', message: `Research failed: ${(err as Error)?.message ?? String(err)}`, retryable: false });
  } finally {
    log.info({ outcome, steps: step, durationMs: Date.now() - t0, promptTokens: usage.promptTokens, completionTokens: usage.completionTokens }, 'research session ended');
    if (sandboxSession) await sandboxSession.then((s) => s.close()).catch((err: unknown) => log.warn({ err: String(err) }, 'sandbox close failed'));
  }
}
