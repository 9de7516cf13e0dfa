// The research session as an event stream: the only thing surfaces (terminal, chat platforms)
// see of the engine. Plain JSON-serialisable data.

export interface Turn {
  question: string;
  answer: string;
}

/** read: the page was fetched in this session; seen: only in search results; unseen: invented. */
export type SourceStatus = 'read' | 'seen' | 'unseen';

export interface Citation {
  /** 1-based, in order of first use in the answer. */
  n: number;
  url: string;
  title: string;
  /** True only when the page was read (fetched) in this session. */
  verified: boolean;
  status: SourceStatus;
}

/** A sentence or clause of the answer that carries citations, and what the cited pages say to it. */
export interface Claim {
  text: string;
  /** Citation numbers (as in `citations`) the claim carries. */
  citations: number[];
  /** True when a cited source holds a passage with the claim's numbers, names, quoted phrases and most of its words. */
  supported: boolean;
  /** Verbatim passages (whitespace normalised, at most ~300 characters) of the cited sources; none when unsupported. */
  quotes: { n: number; text: string }[];
}

export interface Usage {
  promptTokens: number;
  completionTokens: number;
}

export type ResearchEvent =
  | { type: 'started'; sessionId: string; question: string; maxSteps: number; at: number }
  /** Model text outside code blocks, as it streams (deltas). */
  | { type: 'thinking'; text: string }
  | { type: 'code'; step: number; code: string }
  /** A host tool call made by the step's code, as it happens. */
  | { type: 'tool'; step: number; name: 'web_search' | 'web_visit'; arg: string }
  | {
      type: 'observation';
      step: number;
      /** What the model was fed (after the token cap and neutralising). */
      output: string;
      error: string | null;
      stateLost: boolean;
      durationMs: number;
    }
  /** The model closed its reasoning and is writing the final answer. */
  | { type: 'writing' }
  /** Budget or context ran out (or the model stalled: turns with neither code nor an answer);
   *  the model is being asked to conclude. */
  | { type: 'concluding'; reason: 'steps' | 'context' | 'stalled' }
  | {
      type: 'answer';
      /** Answer text with citations rewritten as [n]. */
      text: string;
      citations: Citation[];
      /** One entry per cited claim, in answer order (absent in answers stored before claims existed). */
      claims?: Claim[];
      steps: number;
      usage: Usage;
      durationMs: number;
    }
  | { type: 'error'; message: string; retryable: boolean }
  | { type: 'cancelled' };

export type ResearchEventType = ResearchEvent['type'];

export interface ResearchInput {
  question: string;
  /** Earlier questions and answers of the same thread (follow-ups). */
  history?: Turn[];
  signal?: AbortSignal;
  sessionId?: string;
}

/** What the chat layer and the terminal depend on. Exactly one of answer/error/cancelled ends a stream. */
export interface ResearchEngine {
  research(input: ResearchInput): AsyncIterable<ResearchEvent>;
}
