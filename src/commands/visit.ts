// `cir-bot visit [--json] URL...`: prints what web_visit returns for each URL (full text, before the
// observation's token cap). --json: one line per URL, {url, title, text} or {url, error}.
import { ConfigError, loadConfig } from '../config.ts';
import { formatVisitedPage, formatVisitError, ToolError } from '../tools/index.ts';
import { buildVisitor } from '../wiring/tools.ts';

const USAGE = 'usage: npm run -s cir-bot -- visit [--json] URL...\n';

export default async function visit(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  const unknown = argv.find((a) => a.startsWith('-') && a !== '--json');
  if (unknown) {
    process.stderr.write(`visit: unknown option ${unknown}\n${USAGE}`);
    return 2;
  }
  const urls = argv.filter((a) => !a.startsWith('-'));
  if (urls.length === 0) {
    process.stderr.write(USAGE);
    return 2;
  }
  let env;
  try {
    env = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    throw err;
  }
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
