// Contract between the web tools and their callers (engine, sandbox bridge, CLI).
// Plain data only; the tools never know who calls them.

export interface SearchResult {
  url: string;
  title: string;
  preview: string;
}

export interface SearchProvider {
  readonly name: string;
  /** Returns up to `count` results; throws ToolError with a short, model-readable message. */
  search(query: string, count: number, signal?: AbortSignal): Promise<SearchResult[]>;
}

export interface VisitedPage {
  /** The URL asked for. */
  url: string;
  /** Where the last redirect hop landed. */
  finalUrl: string;
  title: string;
  /** Readable plain text (full, before any token cap). */
  text: string;
  contentType: string;
}

/** An error whose message is meant to be read by the model (and by people). */
export class ToolError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'ToolError';
    this.code = code;
  }
}
