// The engine's marginal cost per code step, against the reference harness's way of running code.
//
// Engine: a full research session against an instant local fake model (real HTTP streaming), each
// turn a trivial block `print(1)` run in the session's Pyodide interpreter, observation appended.
// Marginal cost per step = the median time from one observation to the next (one whole step: model
// call, parsing, the run, the observation), after the first step (which opens the interpreter).
// Reference: a new `python3` process per block, with a prelude defining the tools (stdlib only, so
// the baseline is if anything cheaper than the real one), measured in the same run.
import { execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createEngine } from '../src/engine/index.ts';
import { silentLogger } from '../src/util/log.ts';
import { createSandbox } from '../src/sandbox/index.ts';
import { formatSearchResults } from '../src/tools/index.ts';
import { startFakeLlm } from '../test/fakes/llm.ts';

const STEPS = 40;
const REFERENCE_BLOCKS = 12;

const PRELUDE = `
import json, re, math, datetime, collections, itertools, functools, urllib.request, urllib.parse
def web_search(query, num_result=10, max_result=None):
    req = urllib.request.Request("http://127.0.0.1:9/search", data=json.dumps({"q": query, "num": max_result or num_result}).encode())
    return urllib.request.urlopen(req, timeout=30).read().decode()
def web_visit(url):
    return urllib.request.urlopen("http://127.0.0.1:9/visit?url=" + urllib.parse.quote(url), timeout=30).read().decode()
visit_webpage = web_visit
`;

function runPython(exe: string, code: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(exe, ['-c', `${PRELUDE}\n${code}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (status) => (status === 0 ? resolve(out) : reject(new Error(`python3 exited ${status}`))));
  });
}

async function referencePerBlock(): Promise<number | null> {
  let exe: string;
  try {
    // Resolve the real interpreter (a pyenv shim would add its own start-up to every block).
    exe = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
  await runPython(exe, 'print(1)'); // warm the OS file cache
  const times: number[] = [];
  for (let i = 0; i < REFERENCE_BLOCKS; i++) {
    const t0 = performance.now();
    const out = await runPython(exe, 'print(1)');
    times.push(performance.now() - t0);
    if (out.trim() !== '1') throw new Error(`unexpected output ${out}`);
  }
  return median(times);
}

async function engineSession(steps: number): Promise<{ totalMs: number; stepMs: number }> {
  const turn = '<start_code>\n```python\nprint(1)\n```\n<end_code>';
  // Code until the prompt holds `steps` observations (the warm-up session answers at once).
  const llm = await startFakeLlm(({ prompt }) => {
    const done = prompt.split('<end_code>\n```output').length - 1;
    return done < steps && !prompt.includes('warm-up') ? { text: turn, chunk: 64 } : { text: '</think>\n\nDone.', chunk: 64 };
  });
  // No pool: a background interpreter start would compete for the CPU during the measurement.
  const sandbox = await createSandbox({ poolSize: 0, memoryMb: 256, network: 'auto', logger: silentLogger });
  try {
    const engine = createEngine({
      llm: { baseUrl: llm.baseUrl, model: 'bench', apiKey: 'x', temperature: 0.6, topP: 0.95, topK: -1, maxTokens: 1024, contextTokens: 131072, timeoutMs: 30_000 },
      promptsDir: fileURLToPath(new URL('../prompts', import.meta.url)),
      maxSteps: steps + 1,
      stepTimeoutMs: 30_000,
      observationTokens: 3000,
      sandbox,
      search: { name: 'none', search: async () => [] },
      visitor: { visit: async () => Promise.reject(new Error('no web in the benchmark')) },
      formatSearch: formatSearchResults,
      logger: silentLogger,
    });
    // Warm-up session (loads the prompt files, warms the HTTP path), then the measured one.
    for await (const e of engine.research({ question: 'warm-up' })) if (e.type === 'error') throw new Error(e.message);
    const t0 = performance.now();
    let answered = false;
    const at: number[] = [];
    for await (const e of engine.research({ question: 'bench' })) {
      if (e.type === 'error') throw new Error(e.message);
      if (e.type === 'observation' && e.output === '1') at.push(performance.now());
      if (e.type === 'answer') answered = true;
    }
    const totalMs = performance.now() - t0;
    if (!answered || at.length !== steps) throw new Error(`bench session broken: answered=${answered} ran=${at.length}/${steps}`);
    const gaps = at.slice(1).map((t, i) => t - at[i]);
    return { totalMs, stepMs: median(gaps) };
  } finally {
    await sandbox.close();
    await llm.close();
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export default async function bench(): Promise<void> {
  // This machine is shared and noisy: alternate the measurements and keep each one's best round.
  let step = Infinity;
  let total = Infinity;
  let ref: number | null = Infinity;
  for (let round = 0; round < 3; round++) {
    const e = await engineSession(STEPS);
    step = Math.min(step, e.stepMs);
    total = Math.min(total, e.totalMs);
    const r = await referencePerBlock();
    ref = r === null || ref === null ? null : Math.min(ref, r);
  }
  console.log(`engine, whole session of ${STEPS} steps:   ${total.toFixed(1)} ms (includes starting the interpreter)`);
  console.log(`engine, marginal cost per step:      ${step.toFixed(2)} ms (model call + parse + Pyodide run + observation)`);
  if (ref === null) {
    console.log('reference (python3 per block):       python3 not found, ratio not measured');
    return;
  }
  console.log(`reference, new python3 per block:    ${ref.toFixed(2)} ms (process + prelude only, no model call)`);
  const ratio = ref / step;
  console.log(`ratio: ${ratio.toFixed(1)}x cheaper per step (target >= 20x) ${ratio >= 20 ? 'OK' : 'BELOW TARGET'}`);
}
