// `cir-bot visit [--json] URL...`: prints what web_visit returns for each URL (full text, before the
// observation's token cap). --json: one line per URL, {url, title, text} or {url, error}.
import { formatVisitedPage, formatVisitError, ToolError } from '../tools/index.ts';
import { buildVisitor } from '../wiring/tools.ts';
import { commandLine, configOrReport, EXIT_USAGE } from './common.ts';

const USAGE = 'usage: npm run -s cir-bot -- visit [--json] URL...\n';

export default async function visit(argv: string[]): Promise<number> {
  const args = commandLine('visit', USAGE, argv, { boolean: ['json'] });
  if (typeof args === 'number') return args;
  const json = args.flags.json === true;
  const urls = args.positionals;
  if (urls.length === 0) {
    process.stderr.write(USAGE);
    return EXIT_USAGE;
  }
  const env = configOrReport('visit');
  if (!env) return EXIT_USAGE;
  const visitor = buildVisitor(env);
  let failed = 0;
  try {
    for (const url of urls) {
      try {
        const page = await visitor.visit(url);
        process.stdout.write(json ? `${JSON.stringify({ url, title: page.title, text: page.text })}\n` : `${formatVisitedPage(page)}\n\n`);
      } catch (err) {
        failed++;
        const message = err instanceof ToolError ? err.message : String((err as Error)?.message ?? err);
        process.stdout.write(json ? `${JSON.stringify({ url, error: message })}\n` : `${formatVisitError(url, err)}\n\n`);
      }
    }
  } finally {
    await visitor.close();
  }
  return failed ? 1 : 0;
}
