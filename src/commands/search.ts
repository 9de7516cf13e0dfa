// `cir-bot search [--json] [--num N] QUERY`: prints what web_search returns. --json: one line,
// {query, results: [{url, title, preview}]} or {query, error}.
import { formatSearchResults, ToolError } from '../tools/index.ts';
import { buildSearch } from '../wiring/tools.ts';
import { commandLine, configOrReport, EXIT_USAGE } from './common.ts';

const USAGE = 'usage: npm run -s cir-bot -- search [--json] [--num N] "QUERY"\n';

export default async function search(argv: string[]): Promise<number> {
  const args = commandLine('search', USAGE, argv, { boolean: ['json'], string: ['num'] });
  if (typeof args === 'number') return args;
  const json = args.flags.json === true;
  const num = args.flags.num === undefined ? 10 : Number(args.flags.num);
  if (!Number.isInteger(num) || num < 1) {
    process.stderr.write(`search: --num needs a positive integer, got ${JSON.stringify(args.flags.num)}\n${USAGE}`);
    return EXIT_USAGE;
  }
  const query = args.positionals.join(' ').trim();
  if (!query) {
    process.stderr.write(USAGE);
    return EXIT_USAGE;
  }
  const env = configOrReport('search');
  if (!env) return EXIT_USAGE;
  let provider;
  try {
    provider = buildSearch(env);
  } catch (err) {
    if (err instanceof ToolError) {
      process.stderr.write(`search: ${err.message}\n`);
      return EXIT_USAGE;
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
