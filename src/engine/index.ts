// The engine's public face: createEngine(deps) -> ResearchEngine. Everything it needs is injected
// (sandbox, search, visitor, logger), so surfaces and tests compose it as they like.
import type { ResearchEngine, ResearchEvent, ResearchInput } from './events.ts';
import { type LlmOptions, createLlmClient } from './llm.ts';
import { type PromptTexts, loadPrompts } from './prompts.ts';
import { type SessionDeps, runSession } from './session.ts';
import { type TokenCounter, createTokenCounter } from './tokens.ts';

export type * from './events.ts';
export type { PageVisitor } from './session.ts';
export { serverHint } from './llm.ts';

/** The model server and sampling settings (LlmOptions without the logger, plus the token budgets). */
export type LlmSettings = Omit<LlmOptions, 'logger'> & {
  /** Most tokens generated per turn. */
  maxTokens: number;
  /** Context window the server was started with. */
  contextTokens: number;
};

export interface EngineDeps
  extends Pick<
    SessionDeps,
    'sandbox' | 'search' | 'visitor' | 'formatSearch' | 'formatVisit' | 'formatVisitError' | 'maxSteps' | 'stepTimeoutMs' | 'observationTokens' | 'logger'
  > {
  llm: LlmSettings;
  /** Folder of prompt texts (see prompts/README.md). */
  promptsDir: string;
  /** Run the optional second "write a report" call. */
  report?: boolean;
  now?: () => Date;
  /** Count tokens locally instead of asking the server (tests, servers without /tokenize). */
  localTokenizer?: boolean;
}

export function createEngine(deps: EngineDeps): ResearchEngine {
  const llm = createLlmClient({ ...deps.llm, logger: deps.logger });
  const tokens: TokenCounter = createTokenCounter({ ...deps.llm, logger: deps.logger, localOnly: deps.localTokenizer });
  // Prompt files are read once, at the first question (an unreadable folder fails that question clearly).
  let texts: Promise<PromptTexts> | null = null;

  return {
    async *research(input: ResearchInput): AsyncIterable<ResearchEvent> {
      const ac = new AbortController();
      const onAbort = () => ac.abort();
      if (input.signal?.aborted) ac.abort();
      input.signal?.addEventListener('abort', onAbort, { once: true });

      const queue: ResearchEvent[] = [];
      let wake: (() => void) | null = null;
      let finished = false;
      const emit = (e: ResearchEvent) => {
        queue.push(e);
        wake?.();
      };
      const run = (async () => {
        let loaded: PromptTexts;
        try {
          loaded = await (texts ??= loadPrompts(deps.promptsDir));
        } catch (err) {
          texts = null;
          emit({ type: 'error', message: (err as Error).message, retryable: false });
          return;
        }
        const sd: SessionDeps = {
          llm,
          tokens,
          texts: loaded,
          sandbox: deps.sandbox,
          search: deps.search,
          visitor: deps.visitor,
          formatSearch: deps.formatSearch,
          formatVisit: deps.formatVisit,
          formatVisitError: deps.formatVisitError,
          maxSteps: deps.maxSteps,
          stepTimeoutMs: deps.stepTimeoutMs,
          observationTokens: deps.observationTokens,
          maxTokens: deps.llm.maxTokens,
          contextTokens: deps.llm.contextTokens,
          report: deps.report ?? false,
          logger: deps.logger,
          now: deps.now ?? (() => new Date()),
        };
        await runSession(sd, input, emit, ac.signal);
      })()
        .catch((err: unknown) => emit({ type: 'error', message: `Research failed: ${String(err)}`, retryable: false }))
        .finally(() => {
          finished = true;
          wake?.();
        });

      try {
        for (;;) {
          while (queue.length) yield queue.shift()!;
          if (finished) break;
          await new Promise<void>((r) => (wake = r));
          wake = null;
        }
      } finally {
        // The consumer stopped early (or the stream ended): stop the session and let it clean up.
        ac.abort();
        input.signal?.removeEventListener('abort', onAbort);
        await run;
      }
    },
  };
}
