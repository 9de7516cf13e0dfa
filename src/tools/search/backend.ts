// What one search backend must say: how to ask (an HTTP request) and how to read the answer.
// Adding a provider = one small file exporting a Backend.
import type { SearchResult } from '../types.ts';

export interface BackendRequest {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
}

export interface Backend {
  readonly name: string;
  /** How the answer is read: JSON (the default) or an HTML page (capped, parsed by `parse`). */
  readonly format?: 'json' | 'html';
  /** `count` may exceed what the caller wants (deny-list filtering eats some results). */
  request(query: string, count: number): BackendRequest;
  /** Parses the backend's answer (JSON, or the page's text); throws on a shape it does not
   *  recognise (a ToolError when it has something to say to the model). */
  parse(json: unknown): SearchResult[];
  /** The backend's own reading of a non-200 status (e.g. a limit it signals its own way). */
  statusError?(status: number): import('../types.ts').ToolError | null;
}

/** Plain text of a snippet that may carry HTML tags or entities (some backends highlight terms). */
export function plain(s: unknown): string {
  if (typeof s !== 'string') return '';
  return s
    .replace(/<[^>]*>/g, '')
    .replace(/&(amp|lt|gt|quot|#39|#x27|apos|nbsp);/g, (_m, e: string) =>
      ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", '#x27': "'", apos: "'", nbsp: ' ' })[e] ?? '',
    )
    .replace(/\s+/g, ' ')
    .trim();
}

export function asArray(v: unknown): Record<string, unknown>[] {
  return Array.isArray(v) ? (v.filter((x) => x && typeof x === 'object') as Record<string, unknown>[]) : [];
}
