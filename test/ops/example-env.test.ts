import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { SECRET_VARS, parseConfig } from '../../src/config.ts';

const read = (p: string) => readFileSync(new URL(`../../${p}`, import.meta.url), 'utf8');
const COMPOSE_ONLY = new Set(['COMPOSE_PROFILES', 'SEARXNG_SECRET', 'HF_TOKEN', 'BOT_PORT', 'VLLM_IMAGE', 'SGLANG_IMAGE', 'SEARXNG_IMAGE', 'POSTGRES_PASSWORD', 'CIR_WORKERS', 'POSTGRES_IMAGE']);

/** Variable names of the zod schema in src/config.ts (its object literal's keys). */
function schemaKeys(): string[] {
  const src = read('src/config.ts');
  const start = src.indexOf('const schema = z.object({');
  const end = src.indexOf('\n});', start);
  assert.ok(start >= 0 && end > start, 'schema object found in src/config.ts');
  return [...src.slice(start, end).matchAll(/^ {2}([A-Z][A-Z0-9_]*):/gm)].map((m) => m[1]);
}

/** NAME -> { value, commented, described } for every "NAME=" or "# NAME=" line. */
function envEntries(text: string) {
  const lines = text.split('\n');
  const out = new Map<string, { value: string; commented: boolean; described: boolean }>();
  lines.forEach((line, i) => {
    const m = /^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (!m) return;
    const prev = lines[i - 1] ?? '';
    // A description is a comment line right above that is not itself a NAME= line.
    const described = /^#\s+\S/.test(prev) && !/^#\s*[A-Z][A-Z0-9_]*=/.test(prev);
    out.set(m[2], { value: m[3], commented: !!m[1], described });
  });
  return out;
}

test('deploy/example.env lists every variable of src/config.ts, each with a comment', () => {
  const keys = schemaKeys();
  assert.ok(keys.length > 40, `found ${keys.length} schema keys`);
  assert.ok(keys.includes('CIR_LLM_BASE_URL') && keys.includes('CIR_JUDGE_API_KEY'));
  const env = envEntries(read('deploy/example.env'));
  const missing = keys.filter((k) => !env.has(k));
  assert.deepEqual(missing, [], `add to deploy/example.env: ${missing.join(', ')}`);
  const undescribed = keys.filter((k) => !env.get(k)!.described);
  assert.deepEqual(undescribed, [], `describe in deploy/example.env: ${undescribed.join(', ')}`);
  const text = read('deploy/example.env');
  const twice = keys.filter((k) => (text.match(new RegExp(`^#?\\s*${k}=`, 'gm')) ?? []).length > 1);
  assert.deepEqual(twice, [], `listed more than once: ${twice.join(', ')}`);
  const stale = [...env.keys()].filter((k) => !keys.includes(k) && !COMPOSE_ONLY.has(k));
  assert.deepEqual(stale, [], `no longer in src/config.ts: ${stale.join(', ')}`);
});

test('deploy/example.env holds no secret values and its shown defaults are valid', () => {
  const env = envEntries(read('deploy/example.env'));
  for (const name of SECRET_VARS) {
    const e = env.get(name);
    assert.ok(e, `${name} listed`);
    assert.ok(e.value === '' || e.value === 'EMPTY', `${name} must be empty in the example, is ${JSON.stringify(e.value)}`);
  }
  // Every value written in the file (commented defaults included) passes the real validation.
  const values = Object.fromEntries([...env].filter(([k]) => !COMPOSE_ONLY.has(k)).map(([k, e]) => [k, e.value]));
  assert.doesNotThrow(() => parseConfig(values));
});

test('deploy/example.env lists every variable deploy/compose.yaml reads, and only compose reads the compose-only ones', () => {
  const compose = read('deploy/compose.yaml');
  const used = new Set([...compose.matchAll(/\$\{([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]));
  assert.ok(used.has('SEARXNG_SECRET') && used.has('VLLM_IMAGE'), [...used].join(', '));
  const env = envEntries(read('deploy/example.env'));
  const missing = [...used].filter((k) => !env.has(k));
  assert.deepEqual(missing, [], `add to deploy/example.env: ${missing.join(', ')}`);
  const unused = [...COMPOSE_ONLY].filter((k) => !used.has(k) && k !== 'COMPOSE_PROFILES');
  assert.deepEqual(unused, [], `not read by deploy/compose.yaml: ${unused.join(', ')}`);
});

test("the README's configuration table lists every variable of src/config.ts", () => {
  const readme = read('README.md');
  const missing = schemaKeys().filter((k) => !readme.includes(`| \`${k}\` |`));
  assert.deepEqual(missing, [], `add to the README's configuration table: ${missing.join(', ')}`);
});
