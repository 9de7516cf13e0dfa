// One typed configuration, read from the environment (and an optional .env file), validated
// once at start. Every other module receives plain options; only main.ts and the CLIs read this.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';

const int = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);
const bool = (def: boolean) =>
  z
    .enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'])
    .default(def ? 'true' : 'false')
    .transform((v) => ['1', 'true', 'yes', 'on'].includes(v));
const list = (def: string) =>
  z
    .string()
    .default(def)
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    );
/** An address with one of `schemes` (a missing scheme, e.g. `localhost:8000`, would parse as one). */
const urlOf = (schemes: string[]) =>
  z.string().refine(
    (v) => {
      try {
        return schemes.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be a URL starting with ${schemes.map((x) => `${x}//`).join(' or ')}` },
  );
const HTTP = ['http:', 'https:'];
const url = (def: string) => urlOf(HTTP).default(def);
const optionalUrl = () => urlOf(HTTP).optional();
const secret = () => z.string().min(1).optional();
/** A token whose prefix says which kind it is; the wrong kind is the commonest mix-up. */
const prefixed = (prefix: string, what: string) =>
  z.string().startsWith(prefix, { message: `must be the ${what} (it starts with ${prefix})` }).optional();
/** A Discord bot token: three dot-separated base64url parts, the first the bot's user id in base64. */
const discordToken = () =>
  z
    .string()
    .superRefine((v, ctx) => {
      if (!/^[\w-]+\.[\w-]+\.[\w-]+$/.test(v))
        ctx.addIssue({ code: 'custom', message: 'must be the bot token from the Developer Portal (Bot -> Reset Token): three parts separated by dots, without a "Bot " prefix' });
      else if (!/^\d{1,20}$/.test(Buffer.from(v.split('.')[0], 'base64url').toString('utf8')))
        ctx.addIssue({ code: 'custom', message: "must be the bot token: its first part should be the bot's user id in base64 (is this the client secret or the public key?)" });
    })
    .optional();
/** 1–65535; 0 asks the system for any free port (tests). */
const port = (def: number) => z.coerce.number().int().min(0).max(65535, { message: 'must be a port number from 1 to 65535' }).default(def);

/** Environment variable -> schema. Names are the contract with scripts and operators. */
const schema = z.object({
  // model server
  CIR_LLM_BASE_URL: url('http://127.0.0.1:8000/v1'),
  CIR_LLM_MODEL: z.string().min(1).default('Intelligent-Internet/II-Search-CIR-4B'),
  CIR_LLM_API_KEY: z.string().default('EMPTY'),
  CIR_LLM_TEMPERATURE: z.coerce.number().min(0, { message: 'must be 0 or more (0.6 is what the model card recommends)' }).default(0.6),
  CIR_LLM_TOP_P: z.coerce.number().gt(0, { message: 'must be more than 0 and at most 1' }).max(1, { message: 'must be more than 0 and at most 1' }).default(0.95),
  CIR_LLM_TOP_K: z.coerce.number().int().min(-1).default(-1),
  CIR_LLM_MAX_TOKENS: int(16384, 1),
  CIR_LLM_CONTEXT_TOKENS: int(131072, 1024),
  CIR_LLM_TIMEOUT_MS: int(600000, 1000),
  CIR_PROMPTS_DIR: z.string().default('prompts'),
  CIR_MAX_STEPS: int(32, 1),
  CIR_STEP_TIMEOUT_MS: int(60000, 100),
  CIR_OBSERVATION_TOKENS: int(3000, 100),
  CIR_REPORT: bool(false),

  // web_search
  CIR_SEARCH_PROVIDER: z.enum(['auto', 'searxng', 'serper', 'brave', 'duckduckgo']).default('auto'),
  CIR_SEARXNG_URL: optionalUrl(),
  CIR_DUCKDUCKGO_URL: url('https://html.duckduckgo.com/html/'),
  SERPER_API_KEY: secret(),
  SERPER_API_URL: url('https://google.serper.dev/search'),
  BRAVE_API_KEY: secret(),
  BRAVE_API_URL: url('https://api.search.brave.com/res/v1/web/search'),
  CIR_SEARCH_DENY_DOMAINS: list('huggingface.co'),
  CIR_SEARCH_TIMEOUT_MS: int(15000, 100),

  // web_visit
  CIR_FETCH_ALLOW_HOSTS: list(''),
  CIR_FETCH_TIMEOUT_MS: int(20000, 100),
  CIR_FETCH_MAX_BYTES: int(5 * 1024 * 1024, 1024),
  CIR_FETCH_MAX_PDF_BYTES: int(25 * 1024 * 1024, 1024),
  CIR_FETCH_MAX_REDIRECTS: int(5, 0),

  // sandbox
  CIR_SANDBOX_POOL_SIZE: int(2, 0),
  CIR_SANDBOX_MEMORY_MB: int(512, 64),
  CIR_SANDBOX_NETWORK: z.enum(['auto', 'netns', 'off']).default('auto'),
  // Interpreters live at once = this / ~68 MB each at 8 to a process (the rest of the bot is not counted).
  CIR_SANDBOX_MEMORY_BUDGET_MB: int(2048, 128),
  // Interpreters one sealed process holds, a thread each; 1 = a process per interpreter (see src/sandbox/README.md).
  CIR_SANDBOX_INTERPRETERS_PER_PROCESS: int(8, 1),
  // A session idle this long after a block saves its Python state and gives its interpreter up;
  // -1: only when another session needs the room.
  CIR_SANDBOX_IDLE_RELEASE_MS: int(30_000, -1),

  // chat layer
  CIR_DATA_DIR: z.string().default('data'),
  CIR_MAX_CONCURRENT: int(4, 1),
  CIR_USER_CONCURRENT: int(1, 1),
  CIR_USER_QUOTA: int(20, 1),
  CIR_WORKSPACE_QUOTA: int(200, 1),
  CIR_QUOTA_WINDOW_MIN: int(60, 1),
  CIR_QUEUE_MAX: int(50, 0),
  CIR_FOLLOWUP: z.enum(['mention', 'any']).default('any'),
  CIR_ALLOW_BOTS: bool(false),
  CIR_TRACE_RETENTION_DAYS: int(30, 0),

  // platforms
  CIR_HTTP_PORT: port(3000),
  CIR_HTTP_HOST: z.string().min(1).default('0.0.0.0'),
  SLACK_BOT_TOKEN: prefixed('xoxb-', 'bot token (OAuth & Permissions -> Bot User OAuth Token)'),
  SLACK_SIGNING_SECRET: secret(),
  SLACK_APP_TOKEN: prefixed('xapp-', 'app-level token for Socket Mode (Basic Information -> App-Level Tokens)'),
  SLACK_API_URL: url('https://slack.com/api/'),
  DISCORD_TOKEN: discordToken(),
  DISCORD_APPLICATION_ID: z.string().regex(/^\d+$/, 'must be a numeric snowflake').optional(),
  DISCORD_API_URL: url('https://discord.com/api'),
  DISCORD_GUILD_ID: z.string().regex(/^\d+$/, 'must be a numeric snowflake').optional(),
  /** Ask for the privileged Message Content intent (follow-ups in research threads without a mention). */
  DISCORD_MESSAGE_CONTENT: bool(false),

  // operations
  CIR_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  CIR_SHUTDOWN_GRACE_MS: int(60000, 0),
  REDIS_URL: urlOf(['redis:', 'rediss:']).optional(),
  DATABASE_URL: urlOf(['postgres:', 'postgresql:']).optional(),
  CIR_DATABASE_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case Postgres identifier').optional(),
  CIR_REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - only').default('cir-bot'),
  CIR_WORKER_SESSIONS: int(4, 1),
  CIR_WORKER_LOCK_MS: int(30000, 1000),

  // evaluation judge (separate from the research model)
  CIR_JUDGE_BASE_URL: optionalUrl(),
  CIR_JUDGE_MODEL: z.string().optional(),
  CIR_JUDGE_API_KEY: z.string().default('EMPTY'),
});

export type Env = z.infer<typeof schema>;

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Validates `env`; throws ConfigError naming each bad variable and what is wrong with it. */
export function parseConfig(env: Record<string, string | undefined>): Env {
  // Empty strings mean "unset", as in most .env files.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = schema.safeParse(cleaned);
  if (result.success) return checkCombinations(result.data);
  throw new ConfigError(
    result.error.issues.map((i) => {
      const name = String(i.path[0] ?? '?');
      return `${name}=${shown(name, cleaned[name] ?? '')}: ${i.message}`;
    }),
  );
}

function checkCombinations(c: Env): Env {
  const problems: string[] = [];
  if (c.CIR_SEARCH_PROVIDER === 'serper' && !c.SERPER_API_KEY)
    problems.push('SERPER_API_KEY: required when CIR_SEARCH_PROVIDER=serper');
  if (c.CIR_SEARCH_PROVIDER === 'brave' && !c.BRAVE_API_KEY)
    problems.push('BRAVE_API_KEY: required when CIR_SEARCH_PROVIDER=brave');
  if (c.SLACK_BOT_TOKEN && !c.SLACK_APP_TOKEN && !c.SLACK_SIGNING_SECRET)
    problems.push('SLACK_SIGNING_SECRET: required for HTTP events when SLACK_APP_TOKEN (Socket Mode) is not set');
  if (problems.length) throw new ConfigError(problems);
  return c;
}

/** A bad value as it may be printed: secrets never, URLs without their credentials. */
function shown(name: string, value: string): string {
  if ((SECRET_VARS as readonly string[]).includes(name)) return `(${value.length} characters, hidden)`;
  return JSON.stringify(value.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/i, '$1***@'));
}

/** The search backend `auto` stands for: a configured one (SearXNG URL, Serper or Brave key), else
 *  keyless DuckDuckGo, so that a first answer needs no search server. */
export function searchProvider(c: Env): Exclude<Env['CIR_SEARCH_PROVIDER'], 'auto'> {
  if (c.CIR_SEARCH_PROVIDER !== 'auto') return c.CIR_SEARCH_PROVIDER;
  if (c.CIR_SEARXNG_URL) return 'searxng';
  if (c.SERPER_API_KEY) return 'serper';
  if (c.BRAVE_API_KEY) return 'brave';
  return 'duckduckgo';
}

/** Reads ./.env (if present, without overriding real environment variables) and validates. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, envFile = resolve('.env')): Env {
  if (env === process.env && existsSync(envFile)) process.loadEnvFile(envFile);
  return parseConfig(env);
}

/** Names of variables holding secrets: never logged, never passed to the sandbox. */
export const SECRET_VARS = [
  'CIR_LLM_API_KEY',
  'SERPER_API_KEY',
  'BRAVE_API_KEY',
  'SLACK_BOT_TOKEN',
  'SLACK_SIGNING_SECRET',
  'SLACK_APP_TOKEN',
  'DISCORD_TOKEN',
  'CIR_JUDGE_API_KEY',
] as const;

/** The configured values of SECRET_VARS, for the logger to cut out of every line. */
export function secretValues(env: Env): string[] {
  return SECRET_VARS.map((name) => env[name]).filter((v): v is string => typeof v === 'string' && v !== '');
}
