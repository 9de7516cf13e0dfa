// The engine's public face: createEngine(deps) -> ResearchEngine. Everything it needs is injected
// (sandbox, search, visitor, logger), so surfaces and tests compose it as they like.
import type { Logger } from '../ops/log.ts';
import type { Sandbox } from '../sandbox/types.ts';
import type { SearchProvider, SearchResult, VisitedPage } from '../tools/types.ts';
import type { ResearchEngine, ResearchEvent, ResearchInput } from './events.ts';
import { createLlmClient } from './llm.ts';
import { type PromptTexts, loadPrompts } from './prompts.ts';
import { type PageVisitor, type SessionDeps, runSession } from './session.ts';
import { type TokenCounter, createTokenCounter } from './tokens.ts';

export type * from './events.ts';
export type { PageVisitor } from './session.ts';
export { serverHint } from './llm.ts';

export interface LlmSettings {
  baseUrl: string;
  model: string;
  apiKey: string;
  temperature: number;
  topP: number;
  topK: number;
  maxTokens: number;
  contextTokens: number;
  timeoutMs: number;
  /** Attempts per turn on transient errors (default 4) and the first backoff delay (default 500 ms). */
  attempts?: number;
  backoffMs?: number;
}

export interface EngineDeps {
  llm: LlmSettings;
  /** Folder of prompt texts (see prompts/README.md). */
  promptsDir: string;
  maxSteps: number;
  stepTimeoutMs: number;
  /** Cap of each observation, in the model's tokens. */
  observationTokens: number;
  sandbox: Sandbox;
  search: SearchProvider;
  visitor: PageVisitor;
  formatSearch: (results: SearchResult[], query: string) => string;
  /** What web_visit returns for a page (default: its text) and for a failed visit (default: raise). */
  formatVisit?: (page: VisitedPage) => string;
  formatVisitError?: (url: string, err: unknown) => string;
  /** Run the optional second "write a report" call. */
  report?: boolean;
  logger: Logger;
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
