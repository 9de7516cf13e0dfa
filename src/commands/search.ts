// `cir-bot search [--json] [--num N] QUERY`: prints what web_search returns. --json: one line,
// {query, results: [{url, title, preview}]} or {query, error}.
import { ConfigError, loadConfig } from '../config.ts';
import { formatSearchResults, ToolError } from '../tools/index.ts';
import { buildSearch } from '../wiring/tools.ts';

const USAGE = 'usage: npm run -s cir-bot -- search [--json] [--num N] "QUERY"\n';

export default async function search(argv: string[]): Promise<number> {
  let json = false;
  let num = 10;
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') json = true;
    else if (a === '--help' || a === '-h') {
      process.stdout.write(USAGE);
      return 0;
    } else if (a === '--num' || a.startsWith('--num=')) {
      const v = a === '--num' ? argv[++i] : a.slice(6);
      num = Number(v);
      if (!Number.isInteger(num) || num < 1) {
        process.stderr.write(`search: --num needs a positive integer, got ${JSON.stringify(v ?? '')}\n${USAGE}`);
        return 2;
      }
    } else if (a.startsWith('-') && a.length > 1) {
      process.stderr.write(`search: unknown option ${a}\n${USAGE}`);
      return 2;
    } else words.push(a);
  }
  const query = words.join(' ').trim();
  if (!query) {
    process.stderr.write(USAGE);
    return 2;
  }
  let provider;
  try {
    provider = buildSearch(loadConfig());
  } catch (err) {
    if (err instanceof ConfigError || err instanceof ToolError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    throw err;
  }
  try {
    const results = await provider.search(query, num);
    process.stdout.write(json ? `${JSON.stringify({ query, results })}\n` : `${formatSearchResults(results, query)}\n`);
    return 0;
  } catch (err) {
    const message = err instanceof ToolError ? err.message : String((err as Error)?.message ?? err);
    process.stdout.write(json ? `${JSON.stringify({ query, error: message })}\n` : `web_search failed: ${message}\n`);
    return 1;
  }
}
