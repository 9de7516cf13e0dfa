// The sessions benchmark's other process: the remote parties (a paced fake model, fake SearXNG, a
// small fake web) and the memory/CPU sampler. Kept out of the bot's process so that neither their
// CPU nor their memory, nor the cost of reading /proc for ~200 processes, is billed to the bot; the
// bench leaves this process (and only it) out of the tree it measures.
//
// stdout: one JSON line with the URLs once listening. IPC: {cmd:'start', root} begins sampling
// (answers the tree's CPU so far), {cmd:'stop'} answers the peaks, the CPU and each model turn's time.
import { startFakeLlm, type ScriptContext } from '../test/fakes/llm.ts';
import { fakeResults, startFakeSearch } from '../test/fakes/search.ts';
import { ARTICLES, startFakeWeb } from '../test/fakes/web.ts';
import { sampleTree, type TreeSampler } from '../src/util/proc-tree.ts';
import { isInterpreter } from './sessions-report.ts';
import { sessionTurn } from './sessions-script.ts';

const turnMs = Number(process.argv[2] ?? 6000);
const sampleMs = Number(process.argv[3] ?? 500);

const web = await startFakeWeb();
const articleUrls = ARTICLES.map((a) => `${web.url}${a.path}`);
const search = await startFakeSearch({ results: fakeResults(web.url, [ARTICLES[0].path, ARTICLES[1].path]) });
/** Completions call index -> which session and which of its turns. */
const calls = new Map<number, { session: number; turn: number }>();
const llm = await startFakeLlm((ctx: ScriptContext) => {
  const t = sessionTurn(ctx.prompt, articleUrls, turnMs);
  if (t.session >= 0) calls.set(ctx.call, { session: t.session, turn: t.turn });
  return t.spec;
});

let sampler: TreeSampler | null = null;
let root = 0;
const exclude = [process.pid];
let mostInterpreters = 0;
let ownCpu0 = process.cpuUsage();
const onSample = (s: { processes: Parameters<typeof isInterpreter>[0][] }) => {
  mostInterpreters = Math.max(mostInterpreters, s.processes.filter(isInterpreter).length);
};

process.on('message', (msg: { cmd: string; root?: number }) => {
  if (msg.cmd === 'start') {
    root = msg.root!;
    ownCpu0 = process.cpuUsage();
    sampler = sampleTree(root, sampleMs, { exclude, onSample });
    process.send!({ cmd: 'started', cpuSeconds: sampler.cpuSeconds() });
  } else if (msg.cmd === 'stop') {
    sampler!.sample();
    const peak = sampler!.stop();
    const cpu = sampler!.cpuSeconds();
    const orphanCpu = sampler!.orphanCpuSeconds();
    const own = process.cpuUsage(ownCpu0);
    const samplerCpuSeconds = (own.user + own.system) / 1e6; // reading /proc, plus serving the fakes
    const turns = [...calls].map(([call, c]) => ({ ...c, ms: llm.turnMs.get(call) ?? null }));
    process.send!({ cmd: 'stopped', peak, cpuSeconds: cpu, orphanCpuSeconds: orphanCpu, helperCpuSeconds: samplerCpuSeconds, mostInterpreters, turns });
  } else if (msg.cmd === 'exit') {
    void Promise.all([llm.close(), search.close(), web.close()]).then(() => process.exit(0));
  }
});
process.on('disconnect', () => process.exit(0));

process.stdout.write(`${JSON.stringify({ llm: llm.baseUrl, searxng: search.searxngUrl, allowHost: web.allowHost })}\n`);
