// The model client: raw-prompt streaming completions (POST /v1/completions) through the openai
// package, with the sampling parameters the model was trained with. Transient failures (connection
// errors, 5xx, 429, a stream that breaks off) are retried with backoff; a retry continues from the
// text already received (the prompt plus that text is again a prefix extension, so the server's
// cache still applies and the watcher sees no repeated text).
import { setTimeout as wait } from 'node:timers/promises';
import OpenAI, { APIConnectionError, APIError, APIUserAbortError } from 'openai';
import type { Logger } from '../util/log.ts';
import { displayUrl, scrubText } from '../util/scrub.ts';
import { AbortedError } from './abort.ts';
import type { Finish } from './parse.ts';

export { AbortedError } from './abort.ts';

export interface LlmOptions {
  baseUrl: string;
  model: string;
  apiKey: string;
  temperature: number;
  topP: number;
  /** -1 disables top-k (vLLM would otherwise apply the model's generation_config). */
  topK: number;
  timeoutMs: number;
  logger: Logger;
  /** Attempts per turn for transient errors (default 4). */
  attempts?: number;
  /** First backoff delay; doubles each retry (default 500 ms). */
  backoffMs?: number;
}

export interface GenerateRequest {
  prompt: string;
  maxTokens: number;
  stop: string[];
  signal?: AbortSignal;
  onText?: (delta: string) => void;
  /** The session's logger, so retry lines carry its session id. */
  log?: Logger;
}

export interface GenerateResult {
  text: string;
  finish: Finish;
  /** The raw finish_reason and stop marker (vLLM stop_reason / SGLang matched_stop), for logs. */
  finishReason: string | null;
  matchedStop: string | number | null;
  /** Prompt and completion tokens as the server counted them (null if it did not say). */
  usage: { promptTokens: number; completionTokens: number } | null;
}

export class LlmError extends Error {
  readonly retryable: boolean;
  constructor(message: string, retryable: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LlmError';
    this.retryable = retryable;
  }
}


export interface LlmClient {
  generate(req: GenerateRequest): Promise<GenerateResult>;
  /** The served model's context length as the server reports it (vLLM `max_model_len` in
   *  /v1/models), or null when it does not say. */
  servedContext(): Promise<number | null>;
}

interface RawChoice {
  text?: string;
  finish_reason?: string | null;
  /** vLLM */
  stop_reason?: string | number | null;
  /** SGLang */
  matched_stop?: string | number | null;
  /** llama.cpp's llama-server: 'word' (a stop string, in stopping_word), 'eos' or 'limit'. */
  stop_type?: string;
  stopping_word?: string;
}
interface RawChunk {
  choices?: RawChoice[];
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
}

export function createLlmClient(opts: LlmOptions): LlmClient {
  const client = new OpenAI({
    baseURL: opts.baseUrl,
    apiKey: opts.apiKey || 'EMPTY',
    timeout: opts.timeoutMs,
    maxRetries: 0, // we retry ourselves, mid-stream failures included
  });
  const attempts = opts.attempts ?? 4;
  const backoffMs = opts.backoffMs ?? 500;
  let everConnected = false;

  async function once(req: GenerateRequest, received: { text: string; chunks: number }): Promise<GenerateResult> {
    const body = {
      model: opts.model,
      prompt: req.prompt + received.text,
      max_tokens: Math.max(1, req.maxTokens - received.chunks),
      temperature: opts.temperature,
      top_p: opts.topP,
      top_k: opts.topK,
      stop: req.stop,
      stream: true as const,
      stream_options: { include_usage: true },
    };
    const stream = await client.completions.create(body, { signal: req.signal });
    everConnected = true;
    let finishReason: string | null = null;
    let matchedStop: string | number | null = null;
    let usage: GenerateResult['usage'] = null;
    for await (const raw of stream as AsyncIterable<unknown>) {
      const chunk = raw as RawChunk;
      if (chunk.usage && typeof chunk.usage.prompt_tokens === 'number') {
        usage = { promptTokens: chunk.usage.prompt_tokens, completionTokens: chunk.usage.completion_tokens ?? 0 };
      }
      const choice = chunk.choices?.[0];
      if (!choice) continue;
      if (choice.text) {
        received.text += choice.text;
        received.chunks++;
        req.onText?.(choice.text);
      }
      if (choice.finish_reason) {
        finishReason = choice.finish_reason;
        matchedStop = choice.stop_reason ?? choice.matched_stop ?? (choice.stop_type === 'word' && choice.stopping_word ? choice.stopping_word : null);
      }
    }
    if (finishReason === null) throw new LlmError('the model server ended the stream without finishing', true);
    // vLLM reports 'abort' when it dropped the request (preemption, shutdown): not the model's choice.
    if (finishReason === 'abort') throw new LlmError('the model server aborted the generation', true);
    let text = received.text;
    let finish: Finish = finishReason === 'length' ? 'length' : 'eos';
    if (finishReason === 'stop' && typeof matchedStop === 'string' && req.stop.includes(matchedStop)) finish = 'stop';
    // Servers that keep the stop string in the text (or report no stop marker at all).
    for (const s of req.stop) {
      if (text.endsWith(s)) {
        text = text.slice(0, -s.length);
        finish = 'stop';
      }
    }
    return { text, finish, finishReason, matchedStop, usage };
  }

  let served: Promise<number | null> | null = null;
  return {
    servedContext() {
      served ??= (async () => {
        try {
          const list = await client.models.list({ timeout: 5000 });
          const m = list.data.find((x) => x.id === opts.model) as { max_model_len?: unknown } | undefined;
          if (typeof m?.max_model_len === 'number') return m.max_model_len;
          return await otherServedContext(opts);
        } catch {
          served = null; // ask again next time (the server may be starting)
          return null;
        }
      })();
      return served;
    },
    async generate(req) {
      const received = { text: '', chunks: 0 };
      for (let attempt = 1; ; attempt++) {
        if (req.signal?.aborted) throw new AbortedError();
        try {
          return await once(req, received);
        } catch (err) {
          if (req.signal?.aborted || err instanceof APIUserAbortError) throw new AbortedError();
          const e = describe(err, opts);
          // Nothing has ever answered: one quick second try, then the clear message.
          const limit = !everConnected && isRefused(err) ? 2 : attempts;
          if (!e.retryable || attempt >= limit) throw e;
          const delay = backoffMs * 2 ** (attempt - 1);
          (req.log ?? opts.logger).warn({ attempt, delay, err: e.message }, 'model server error; retrying');
          await sleep(delay, req.signal);
        }
      }
    },
  };
}

function causes(err: unknown): unknown[] {
  const out: unknown[] = [];
  for (let e = err; e && out.length < 8; e = (e as { cause?: unknown }).cause) out.push(e);
  return out;
}

function isRefused(err: unknown): boolean {
  return causes(err).some((e) => ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN'].includes((e as { code?: string }).code ?? ''));
}

/**
 * The context of servers whose /v1/models does not say it: llama.cpp's llama-server
 * (GET /props: default_generation_settings.n_ctx, what `-c` set) and Ollama (POST /api/show:
 * `num_ctx` in its parameters, what the Modelfile set). Null when neither answers.
 */
async function otherServedContext(opts: Pick<LlmOptions, 'baseUrl' | 'model' | 'apiKey'>): Promise<number | null> {
  const root = opts.baseUrl.replace(/\/+$/, '').replace(/\/v1$/, '');
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${opts.apiKey || 'EMPTY'}` };
  const get = async (path: string, body?: unknown): Promise<Record<string, unknown> | null> => {
    try {
      const res = await fetch(`${root}${path}`, { method: body ? 'POST' : 'GET', headers, body: body ? JSON.stringify(body) : undefined, signal: AbortSignal.timeout(5000) });
      return res.ok ? ((await res.json()) as Record<string, unknown>) : null;
    } catch {
      return null;
    }
  };
  const props = await get('/props');
  const nCtx = (props?.default_generation_settings as { n_ctx?: unknown } | undefined)?.n_ctx ?? props?.n_ctx;
  if (typeof nCtx === 'number' && nCtx > 0) return nCtx;
  const show = await get('/api/show', { model: opts.model });
  const m = typeof show?.parameters === 'string' ? /(?:^|\n)num_ctx\s+(\d+)/.exec(show.parameters) : null;
  return m ? Number(m[1]) : null;
}

export function serverHint(opts: Pick<LlmOptions, 'baseUrl' | 'model'>): string {
  return (
    `Cannot reach the model server at ${displayUrl(opts.baseUrl)}. Start one (or set CIR_LLM_BASE_URL), e.g.:\n` +
    // vLLM 0.11.1 dropped --rope-scaling; the card's yarn scaling goes through --hf-overrides.
    `  vllm serve ${opts.model} --hf-overrides '{"rope_scaling":{"rope_type":"yarn","factor":4.0,"original_max_position_embeddings":32768}}'`
  );
}

/** What a server or library said, made safe to show: no URL credentials, header values or the
 *  API key (a 400 body may echo the request headers), and short. */
function said(err: unknown, opts: LlmOptions): string {
  const msg = err instanceof Error ? err.message : String(err);
  const clean = scrubText(msg, [opts.apiKey]).replace(/\s+/g, ' ').trim();
  return clean.length > 300 ? `${clean.slice(0, 300)}...` : clean;
}

function describe(err: unknown, opts: LlmOptions): LlmError {
  if (err instanceof LlmError) return err;
  const at = displayUrl(opts.baseUrl);
  if (isRefused(err)) return new LlmError(serverHint(opts), true, { cause: err });
  if (err instanceof APIConnectionError) {
    return new LlmError(`model server connection failed (${at}): ${said(err, opts)}; check that it is running and CIR_LLM_BASE_URL`, true, { cause: err });
  }
  if (err instanceof APIError) {
    const status = err.status;
    const retryable = status === undefined || status === 408 || status === 409 || status === 429 || status >= 500;
    const what = status === undefined ? 'error in the stream' : `HTTP ${status}`;
    const hint =
      status === 404 ? ` (is model '${opts.model}' served there? check CIR_LLM_MODEL)` :
      status === 401 || status === 403 ? ' (check CIR_LLM_API_KEY)' : '';
    return new LlmError(`model server ${what} at ${at}: ${said(err, opts)}${hint}`, retryable, { cause: err });
  }
  // fetch/stream failures surface as TypeError ("terminated", "fetch failed") and friends.
  return new LlmError(`model server stream failed (${at}): ${said(err, opts)}`, true, { cause: err });
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return wait(ms, undefined, { signal }).catch((err: unknown) => {
    throw signal?.aborted ? new AbortedError() : err;
  });
}
