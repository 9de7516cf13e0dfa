// A fake OpenAI-compatible model server for tests, over real HTTP on 127.0.0.1 (port 0).
//
// It plays scripted model turns for POST /v1/completions, streamed as SSE the way vLLM does
// (`finish_reason` + `stop_reason`) or SGLang does (`finish_reason` + `matched_stop`), and applies
// the request's `stop` strings and `max_tokens` itself like a real server: a scripted turn is the
// text the "model" would write; the server cuts it at the first stop string (excluded from the text,
// reported as the stop reason) or at max_tokens (finish_reason "length"), else ends with EOS.
//
//   const llm = await startFakeLlm([
//     'Let me search.\n<start_code>\n```python\nprint(web_search("x"))\n```\n<end_code>',
//     'Found it.\n</think>\n\nThe answer is [Example](https://example.com).',
//   ]);
//   // point the code under test at llm.baseUrl (ends with /v1); inspect llm.requests; await llm.close();
//
// A script is a list of turns (one per completions call, in order) or a function of the call
// ({ prompt, call, body }) returning a turn. A turn is a string or a TurnSpec with error injection:
// `fail` (HTTP error before streaming, e.g. 503), `errorAfter` (an SSE error event after N chars,
// as vLLM reports a 500 mid-stream), `dropAfter` (the connection is destroyed after N chars),
// `hang` (streams, then never finishes until the client goes away), `delayMs` between chunks,
// `durationMs` for the whole stream (a paced model; `turnMs` says how long each call really took).
// When a list runs out, the server answers 400 "script exhausted" (a clear test failure).
//
// Also served: GET /v1/models (with vLLM's max_model_len); tokenization (a toy tokenizer: each run of spaces plus the word
// after it is one token) at POST /tokenize and /detokenize (vLLM, at the root) or /v1/tokenize and
// /v1/detokenize (SGLang), unless `tokenize: false`; chat completions are NOT served.
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TurnSpec {
  text: string;
  /** Characters per SSE chunk (default 6). */
  chunk?: number;
  /** Answer this HTTP status (with an OpenAI-style error body) instead of streaming. */
  fail?: { status: number; message?: string };
  /** Stream this many characters, then send an SSE error event (vLLM's mid-stream failure). */
  errorAfter?: number;
  /** Stream this many characters, then destroy the connection. */
  dropAfter?: number;
  /** Stream the text, then keep the stream open without finishing until the client disconnects. */
  hang?: boolean;
  /** Pause between chunks. */
  delayMs?: number;
  /** Spread the stream over this long (a paced model: chunk i leaves at start + i/n of it, on
   *  absolute deadlines so late timers on a busy machine do not add up). Overrides delayMs. */
  durationMs?: number;
  /** Report this finish_reason instead of the computed one (e.g. vLLM's 'abort' on preemption). */
  finishReason?: string;
}
export type Turn = string | TurnSpec;
export interface ScriptContext {
  prompt: string;
  /** 0-based index of this completions call. */
  call: number;
  body: Record<string, unknown>;
}
export type Script = Turn[] | ((ctx: ScriptContext) => Turn | Promise<Turn>);

export interface FakeLlmOptions {
  /** vllm, sglang; llama.cpp's llama-server (stop reported as stop_type/stopping_word, as its
   *  server README documents for /completion; POST /tokenize {content} -> {tokens} and
   *  /detokenize {tokens} -> {content} at the root; the served context in GET /props
   *  default_generation_settings.n_ctx; /v1/models without max_model_len); ollama (OpenAI-compatible
   *  /v1/completions with finish_reason only, no tokenizer endpoint, num_ctx in POST /api/show's
   *  `parameters` text, per its API docs). */
  flavour?: 'vllm' | 'sglang' | 'llama.cpp' | 'ollama';
  /** llama.cpp's n_ctx (/props) or Ollama's num_ctx (/api/show); default 32768. */
  servedContext?: number;
  /** Serve the tokenize endpoints (default true). */
  tokenize?: boolean;
  /** Send a usage chunk when asked with stream_options.include_usage (default true). */
  usage?: boolean;
  model?: string;
  /** The context length /v1/models reports as `max_model_len` (vLLM does; default 131072). */
  maxModelLen?: number;
  /** Keep the matched stop string at the end of the text (vLLM's include_stop_str_in_output; some
   *  servers always do). Also honoured per request through `include_stop_str_in_output: true`. */
  includeStop?: boolean;
}

export interface RecordedRequest {
  method: string;
  path: string;
  body: Record<string, unknown>;
}

export interface FakeLlm {
  /** e.g. http://127.0.0.1:PORT/v1 */
  baseUrl: string;
  /** Every request received, in order. */
  requests: RecordedRequest[];
  /** The prompts of the completions calls, in order. */
  prompts(): string[];
  /** How many streams the client abandoned before they finished. */
  readonly disconnects: number;
  /** Per completions call (by index): ms from the request's arrival to its last byte. */
  readonly turnMs: ReadonlyMap<number, number>;
  close(): Promise<void>;
}

const EOS_ID = 151645;

/** The toy tokenizer: whitespace run + following non-space run is one token. */
export function fakeTokens(text: string): string[] {
  return text.match(/\s*\S+|\s+/g) ?? [];
}

export async function startFakeLlm(script: Script, options: FakeLlmOptions = {}): Promise<FakeLlm> {
  const flavour = options.flavour ?? 'vllm';
  const model = options.model ?? 'Intelligent-Internet/II-Search-CIR-4B';
  const requests: RecordedRequest[] = [];
  const vocab: string[] = [];
  const ids = new Map<string, number>();
  const toId = (t: string) => {
    let id = ids.get(t);
    if (id === undefined) {
      id = vocab.length;
      vocab.push(t);
      ids.set(t, id);
    }
    return id;
  };
  let calls = 0;
  let disconnects = 0;
  const turnMs = new Map<number, number>();

  const nextTurn = async (ctx: ScriptContext): Promise<Turn | null> => {
    if (typeof script === 'function') return script(ctx);
    return ctx.call < script.length ? script[ctx.call] : null;
  };

  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  async function completions(req: IncomingMessage, res: ServerResponse, body: Record<string, unknown>) {
    const prompt = String(body.prompt ?? '');
    const call = calls++;
    const arrived = performance.now();
    const turn = await nextTurn({ prompt, call, body });
    if (turn === null) return json(res, 400, { error: { message: `fake llm: script exhausted at call ${call}`, type: 'BadRequestError' } });
    const spec: TurnSpec = typeof turn === 'string' ? { text: turn } : turn;
    if (spec.fail) return json(res, spec.fail.status, { error: { message: spec.fail.message ?? `fake failure ${spec.fail.status}`, type: 'ServerError', code: spec.fail.status } });

    // What a real server would return for this text: cut at stop strings or at max_tokens.
    const stops = Array.isArray(body.stop) ? (body.stop as string[]) : typeof body.stop === 'string' ? [body.stop] : [];
    let text = spec.text;
    let finish: 'stop' | 'length' = 'stop';
    let matched: string | number | null = null;
    let cut = -1;
    for (const s of stops) {
      const i = text.indexOf(s);
      if (i >= 0 && (cut < 0 || i < cut)) [cut, matched] = [i, s];
    }
    if (cut >= 0) text = text.slice(0, cut);
    const keepStop = options.includeStop === true || body.include_stop_str_in_output === true;
    const maxTokens = typeof body.max_tokens === 'number' ? body.max_tokens : Infinity;
    const toks = fakeTokens(text);
    if (toks.length > maxTokens) {
      text = toks.slice(0, maxTokens).join('');
      finish = 'length';
      matched = null;
    }
    if (finish === 'stop' && matched === null && flavour === 'sglang') matched = EOS_ID;
    if (keepStop && typeof matched === 'string') text += matched;
    const reported = spec.finishReason ?? finish;

    const created = Math.floor(Date.now() / 1000);
    const choice = (t: string, fr: string | null) =>
      flavour === 'vllm'
        ? { index: 0, text: t, logprobs: null, finish_reason: fr, stop_reason: fr ? matched : null }
        : flavour === 'sglang'
          ? { index: 0, text: t, logprobs: null, finish_reason: fr, matched_stop: fr ? matched : null }
          : flavour === 'llama.cpp'
            ? { index: 0, text: t, logprobs: null, finish_reason: fr, ...(fr ? { stop_type: fr === 'length' ? 'limit' : typeof matched === 'string' ? 'word' : 'eos', stopping_word: typeof matched === 'string' ? matched : '' } : {}) }
            : { index: 0, text: t, finish_reason: fr };
    const usage = { prompt_tokens: fakeTokens(prompt).length, completion_tokens: fakeTokens(text).length, total_tokens: 0 };
    usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;

    if (!body.stream) return json(res, 200, { id: `cmpl-${call}`, object: 'text_completion', created, model, choices: [choice(text, reported)], usage });

    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    let closed = false;
    res.on('close', () => {
      if (!res.writableFinished) {
        closed = true;
        disconnects++;
      }
    });
    const send = (obj: unknown) => res.write(`data: ${JSON.stringify(obj)}\n\n`);
    const chunk = spec.chunk ?? 6;
    const limit = spec.errorAfter ?? spec.dropAfter ?? Infinity;
    const pieces = Math.max(1, Math.ceil(Math.min(text.length, limit) / chunk));
    for (let i = 0; i < text.length && !closed; i += chunk) {
      if (i >= limit) break;
      const piece = text.slice(i, Math.min(i + chunk, limit));
      send({ id: `cmpl-${call}`, object: 'text_completion', created, model, choices: [choice(piece, null)] });
      if (spec.durationMs !== undefined) {
        const due = arrived + (spec.durationMs * (i / chunk + 1)) / pieces;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      } else if (spec.delayMs) await new Promise((r) => setTimeout(r, spec.delayMs));
    }
    if (closed) return;
    if (spec.dropAfter !== undefined) {
      await new Promise((r) => setTimeout(r, 5));
      res.socket?.destroy();
      return;
    }
    if (spec.errorAfter !== undefined) {
      send({ error: { object: 'error', message: 'fake mid-stream failure', type: 'InternalServerError', code: 500 } });
      res.end();
      return;
    }
    if (spec.hang) return; // the client has to give up (cancellation tests)
    send({ id: `cmpl-${call}`, object: 'text_completion', created, model, choices: [choice('', reported)] });
    const so = body.stream_options as { include_usage?: boolean } | undefined;
    if (so?.include_usage && options.usage !== false) send({ id: `cmpl-${call}`, object: 'text_completion', created, model, choices: [], usage });
    res.end('data: [DONE]\n\n');
    turnMs.set(call, performance.now() - arrived);
  }

  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: Record<string, unknown> = {};
    try {
      body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    } catch {
      return json(res, 400, { error: { message: 'invalid JSON' } });
    }
    const path = (req.url ?? '/').split('?')[0];
    requests.push({ method: req.method ?? 'GET', path, body });
    const tokPrefix = flavour === 'sglang' ? '/v1' : '';
    const served = options.servedContext ?? 32768;
    try {
      if (req.method === 'POST' && path === '/v1/completions') return await completions(req, res, body);
      if (req.method === 'GET' && path === '/v1/models') {
        const entry = flavour === 'vllm' || flavour === 'sglang' ? { max_model_len: options.maxModelLen ?? 131072 } : {};
        return json(res, 200, { object: 'list', data: [{ id: model, object: 'model', owned_by: 'fake', ...entry }] });
      }
      if (flavour === 'llama.cpp' && req.method === 'GET' && path === '/props') return json(res, 200, { default_generation_settings: { n_ctx: served }, total_slots: 1 });
      if (flavour === 'ollama' && req.method === 'POST' && path === '/api/show')
        return body.model === model ? json(res, 200, { parameters: `num_ctx                        ${served}\nstop                           "<|im_end|>"`, model_info: { 'qwen3.context_length': 40960 } }) : json(res, 404, { error: `model '${String(body.model)}' not found` });
      if (flavour === 'ollama' && /tokenize$/.test(path)) return json(res, 404, { error: '404 page not found' });
      if (flavour === 'llama.cpp' && req.method === 'POST' && path === '/tokenize') {
        if (typeof body.content !== 'string') return json(res, 400, { error: { code: 400, message: '"content" must be provided', type: 'invalid_request_error' } });
        return json(res, 200, { tokens: fakeTokens(body.content).map(toId) });
      }
      if (flavour === 'llama.cpp' && req.method === 'POST' && path === '/detokenize')
        return json(res, 200, { content: ((body.tokens as number[]) ?? []).map((i) => vocab[i] ?? '').join('') });
      if (options.tokenize !== false && req.method === 'POST' && path === `${tokPrefix}/tokenize`) {
        const tokens = fakeTokens(String(body.prompt ?? body.text ?? '')).map(toId);
        return json(res, 200, { tokens, count: tokens.length, max_model_len: 131072 });
      }
      if (options.tokenize !== false && req.method === 'POST' && path === `${tokPrefix}/detokenize`) {
        const text = ((body.tokens as number[]) ?? []).map((i) => vocab[i] ?? '').join('');
        return json(res, 200, flavour === 'vllm' ? { prompt: text } : { text });
      }
      json(res, 404, { error: { message: `fake llm: no route ${req.method} ${path}` } });
    } catch (err) {
      if (!res.headersSent) json(res, 500, { error: { message: String(err) } });
      else res.destroy();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    prompts: () => requests.filter((r) => r.path === '/v1/completions').map((r) => String(r.body.prompt)),
    get disconnects() {
      return disconnects;
    },
    turnMs,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
