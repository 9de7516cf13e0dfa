// `cir-bot doctor`: one check per part the bot depends on, each saying what is wrong and the
// one-line fix naming the variable to set. `ask` and `serve` run the cheap ones before any work.
import { access, mkdir, rm, writeFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import { join, resolve } from 'node:path';
import { searchProvider, type Env } from '../config.ts';
import { checkModel } from '../ops/health.ts';
import { displayUrl } from '../util/scrub.ts';
import type { Logger } from '../util/log.ts';
import { buildSandbox } from '../wiring/sandbox.ts';
import { buildSearch, buildVisitor } from '../wiring/tools.ts';

export interface CheckOutcome {
  check: string;
  ok: boolean;
  /** What was found (for a failure, what is wrong). */
  detail: string;
  /** For a failure: one line saying what to set or run. */
  fix?: string;
}

type Check = (env: Env, logger: Logger) => Promise<CheckOutcome>;

const VLLM = 'vllm serve Intelligent-Internet/II-Search-CIR-4B --port 8000';

function why(err: unknown): string {
  const e = err as Error & { cause?: { code?: string } };
  return e?.name === 'TimeoutError' ? 'timed out' : (e?.cause?.code ?? e?.message ?? String(err));
}

function authHeaders(apiKey: string): Record<string, string> {
  return apiKey && apiKey !== 'EMPTY' ? { authorization: `Bearer ${apiKey}` } : {};
}

/** GET /v1/models lists the model; a 1-token raw-prompt completion works; the context length fits. */
export const modelServer: Check = async (env) => {
  const check = 'model server';
  const base = env.CIR_LLM_BASE_URL.replace(/\/+$/, '');
  const listed = await checkModel({ baseUrl: env.CIR_LLM_BASE_URL, model: env.CIR_LLM_MODEL, apiKey: env.CIR_LLM_API_KEY, timeoutMs: 5000 });
  if (!listed.ok)
    return { check, ok: false, detail: String(listed.detail), fix: `start the model server (e.g. \`${VLLM}\`) and set CIR_LLM_BASE_URL to its /v1 address, CIR_LLM_MODEL to the name it serves` };
  let served = '';
  try {
    const res = await fetch(`${base}/models`, { headers: { accept: 'application/json', ...authHeaders(env.CIR_LLM_API_KEY) }, signal: AbortSignal.timeout(5000) });
    const body = (await res.json()) as { data?: { id?: string; max_model_len?: number }[] };
    const len = body.data?.find((m) => m.id === env.CIR_LLM_MODEL)?.max_model_len;
    if (typeof len === 'number') served = len < env.CIR_LLM_CONTEXT_TOKENS ? `; serves ${len} tokens of context (research plans with that, less than CIR_LLM_CONTEXT_TOKENS=${env.CIR_LLM_CONTEXT_TOKENS})` : `; ${len} tokens of context`;
  } catch {
    // the listing worked a moment ago; the context length is a detail
  }
  try {
    const res = await fetch(`${base}/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...authHeaders(env.CIR_LLM_API_KEY) },
      body: JSON.stringify({ model: env.CIR_LLM_MODEL, prompt: '<|im_start|>user\nSay ok.<|im_end|>\n<|im_start|>assistant\n', max_tokens: 1, temperature: 0 }),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    if (!res.ok) return { check, ok: false, detail: `a 1-token raw-prompt completion answered HTTP ${res.status}`, fix: 'the server must offer POST /v1/completions with a raw prompt (vLLM, SGLang); check CIR_LLM_MODEL and CIR_LLM_API_KEY' };
    const body = JSON.parse(text) as { choices?: { text?: unknown }[] };
    if (typeof body.choices?.[0]?.text !== 'string') return { check, ok: false, detail: 'the completion answer has no choices[0].text', fix: 'point CIR_LLM_BASE_URL at an OpenAI-compatible /v1 (vLLM, SGLang)' };
  } catch (err) {
    return { check, ok: false, detail: `a 1-token completion failed (${why(err)})`, fix: `check the model server at CIR_LLM_BASE_URL=${displayUrl(env.CIR_LLM_BASE_URL)}` };
  }
  return { check, ok: true, detail: `${displayUrl(env.CIR_LLM_BASE_URL)} serves ${env.CIR_LLM_MODEL} and completes a raw prompt${served}` };
};

const SEARCH_FIX: Record<ReturnType<typeof searchProvider>, string> = {
  searxng: 'run SearXNG with JSON output enabled (deploy/compose.yaml has one) and set CIR_SEARXNG_URL, or set CIR_SEARCH_PROVIDER=serper with SERPER_API_KEY (or brave with BRAVE_API_KEY)',
  serper: 'check SERPER_API_KEY (serper.dev dashboard), or set CIR_SEARCH_PROVIDER=searxng with CIR_SEARXNG_URL',
  brave: 'check BRAVE_API_KEY (Brave Search API dashboard), or set CIR_SEARCH_PROVIDER=searxng with CIR_SEARXNG_URL',
  duckduckgo: 'keyless DuckDuckGo is the fallback; for dependable search set CIR_SEARXNG_URL (SearXNG, in deploy/compose.yaml), SERPER_API_KEY or BRAVE_API_KEY',
};

/** One real query returns results. */
export const searchBackend: Check = async (env) => {
  const check = 'search';
  const provider = searchProvider(env);
  try {
    const results = await buildSearch(env).search('wikipedia', 3, AbortSignal.timeout(env.CIR_SEARCH_TIMEOUT_MS + 2000));
    if (!results.length) return { check, ok: false, detail: `${provider} answered a test query with no results`, fix: SEARCH_FIX[provider] };
    return { check, ok: true, detail: `${provider} returned ${results.length} results for a test query${env.CIR_SEARCH_PROVIDER === 'auto' ? ' (CIR_SEARCH_PROVIDER=auto)' : ''}` };
  } catch (err) {
    return { check, ok: false, detail: `${provider}: ${(err as Error).message}`, fix: SEARCH_FIX[provider] };
  }
};

/** The SSRF guard refuses a private address (unless allow-listed), as configured. */
export const webVisit: Check = async (env) => {
  const check = 'web_visit';
  const visitor = buildVisitor(env);
  const allow = env.CIR_FETCH_ALLOW_HOSTS;
  try {
    const probe = allow.includes('127.0.0.1:9') ? 'http://10.255.255.1:9/' : 'http://127.0.0.1:9/';
    await visitor.visit(probe, AbortSignal.timeout(3000)).then(
      () => {
        throw new Error('a private address was fetched');
      },
      (err: unknown) => {
        if ((err as { code?: string }).code !== 'refused') throw new Error(`a private address was not refused by the guard (${why(err)})`);
      },
    );
    return { check, ok: true, detail: `private and local addresses are refused${allow.length ? `; allowed anyway: ${allow.join(', ')}` : ''}` };
  } catch (err) {
    return { check, ok: false, detail: (err as Error).message, fix: 'this is a bug: report it; meanwhile do not expose the bot' };
  } finally {
    await visitor.close();
  }
};

/** An interpreter starts and runs a block; says whether the network cut-off is in force. */
export const sandbox: Check = async (env, logger) => {
  const check = 'sandbox';
  let sb: Awaited<ReturnType<typeof buildSandbox>> | null = null;
  try {
    sb = await buildSandbox({ ...env, CIR_SANDBOX_POOL_SIZE: 0 }, logger);
    const session = await sb.open({ webSearch: async () => '', webVisit: async () => '' });
    const r = await session.run('print(6 * 7)', { timeoutMs: 30_000 });
    await session.close();
    if (r.output.trim() !== '42') return { check, ok: false, detail: `a test block printed ${JSON.stringify(r.output)} (${r.error ?? r.stopped ?? ''})`, fix: 'see src/sandbox/README.md; CIR_SANDBOX_MEMORY_MB may be too small' };
    const net = sb.status().isolation.network;
    const cut = net === 'netns' ? 'the network is cut off (own network namespace)' : `no network namespace (${net}): the interpreter is still sealed from sockets by its own runtime`;
    return { check, ok: true, detail: `an interpreter starts and runs Python; ${cut}` };
  } catch (err) {
    return { check, ok: false, detail: `the interpreter did not start (${(err as Error).message})`, fix: 'check CIR_DATA_DIR is writable (snapshots live there) and CIR_SANDBOX_NETWORK (auto, netns, off)' };
  } finally {
    await sb?.close();
  }
};

/** Slack's auth.test accepts the bot token. */
export const slack: Check = async (env) => {
  const check = 'slack';
  try {
    const res = await fetch(`${env.SLACK_API_URL.replace(/\/*$/, '/')}auth.test`, { method: 'POST', headers: { authorization: `Bearer ${env.SLACK_BOT_TOKEN}` }, signal: AbortSignal.timeout(5000) });
    const body = (await res.json()) as { ok?: boolean; error?: string; team?: string; user?: string };
    if (!body.ok) return { check, ok: false, detail: `auth.test refused the bot token (${body.error ?? `HTTP ${res.status}`})`, fix: 'set SLACK_BOT_TOKEN to the Bot User OAuth Token (xoxb-…) from OAuth & Permissions, after installing the app' };
    const mode = env.SLACK_APP_TOKEN ? 'Socket Mode (SLACK_APP_TOKEN)' : 'HTTP events at /slack/events (SLACK_SIGNING_SECRET)';
    return { check, ok: true, detail: `bot ${body.user ?? '?'} in workspace ${body.team ?? '?'}; events over ${mode}` };
  } catch (err) {
    return { check, ok: false, detail: `Slack unreachable (${why(err)})`, fix: 'check the network to slack.com (or SLACK_API_URL)' };
  }
};

/** GET /users/@me with the bot token; the application id and the Message Content intent. */
export const discord: Check = async (env) => {
  const check = 'discord';
  const api = env.DISCORD_API_URL.replace(/\/+$/, '');
  const headers = { authorization: `Bot ${env.DISCORD_TOKEN}` };
  try {
    const me = await fetch(`${api}/v10/users/@me`, { headers, signal: AbortSignal.timeout(5000) });
    if (!me.ok) return { check, ok: false, detail: `GET /users/@me refused the token (HTTP ${me.status})`, fix: 'set DISCORD_TOKEN to the bot token (Developer Portal -> Bot -> Reset Token)' };
    const user = (await me.json()) as { id: string; username?: string; bot?: boolean };
    if (!user.bot) return { check, ok: false, detail: 'the token belongs to a user account, not a bot', fix: 'set DISCORD_TOKEN to the token of the application’s bot' };
    const notes: string[] = [`bot ${user.username ?? user.id}`];
    const app = await fetch(`${api}/v10/applications/@me`, { headers, signal: AbortSignal.timeout(5000) }).catch(() => null);
    if (app?.ok) {
      const a = (await app.json()) as { id: string; flags?: number };
      if (env.DISCORD_APPLICATION_ID && env.DISCORD_APPLICATION_ID !== a.id)
        return { check, ok: false, detail: `DISCORD_APPLICATION_ID is ${env.DISCORD_APPLICATION_ID} but the token's application is ${a.id}`, fix: `set DISCORD_APPLICATION_ID=${a.id}` };
      // GATEWAY_MESSAGE_CONTENT (1 << 19) or its _LIMITED form (1 << 18): mentions then carry their text.
      const content = ((a.flags ?? 0) & ((1 << 18) | (1 << 19))) !== 0;
      notes.push(content ? 'Message Content intent on' : 'Message Content intent off: mentions arrive without text, /research still works (Developer Portal -> Bot -> Message Content Intent)');
    }
    return { check, ok: true, detail: notes.join('; ') };
  } catch (err) {
    return { check, ok: false, detail: `Discord unreachable (${why(err)})`, fix: 'check the network to discord.com (or DISCORD_API_URL)' };
  }
};

/** The data directory (store, traces, snapshots) is writable. */
export const dataDir: Check = async (env) => {
  const check = 'data directory';
  const dir = resolve(env.CIR_DATA_DIR);
  try {
    await mkdir(dir, { recursive: true });
    await access(dir, constants.W_OK);
    const probe = join(dir, `.doctor-${process.pid}`);
    await writeFile(probe, 'ok');
    await rm(probe);
    return { check, ok: true, detail: `${dir} is writable` };
  } catch (err) {
    return { check, ok: false, detail: `${dir} is not writable (${(err as NodeJS.ErrnoException).code ?? why(err)})`, fix: 'set CIR_DATA_DIR to a folder the bot may write to' };
  }
};

/** Every check that applies to this configuration (platforms only when configured). */
export function checksFor(env: Env): Check[] {
  const checks: Check[] = [modelServer, searchBackend, webVisit, sandbox, dataDir];
  if (env.SLACK_BOT_TOKEN) checks.push(slack);
  if (env.DISCORD_TOKEN) checks.push(discord);
  return checks;
}

/**
 * The cheap part, run by `ask` and `serve` before any work: the model server lists the model
 * and the search backend answers a query. Returns the failures (empty when fine).
 */
export async function preflight(env: Env, logger: Logger): Promise<CheckOutcome[]> {
  const results = await Promise.all([
    checkModel({ baseUrl: env.CIR_LLM_BASE_URL, model: env.CIR_LLM_MODEL, apiKey: env.CIR_LLM_API_KEY, timeoutMs: 5000 }).then(
      (r): CheckOutcome =>
        r.ok ? { check: 'model server', ok: true, detail: 'ok' } : { check: 'model server', ok: false, detail: String(r.detail), fix: `start the model server (e.g. \`${VLLM}\`) and set CIR_LLM_BASE_URL to its /v1 address, CIR_LLM_MODEL to the name it serves` },
    ),
    searchBackend(env, logger),
  ]);
  return results.filter((r) => !r.ok);
}

/** A failed check as the lines a person reads. */
export function describe(o: CheckOutcome): string {
  return o.ok ? `✔ ${o.check}: ${o.detail}` : `✖ ${o.check}: ${o.detail}${o.fix ? `\n    fix: ${o.fix}` : ''}`;
}
