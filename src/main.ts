// Entry point: `npm run -s cir-bot -- COMMAND ...`. Each command lives in src/commands/NAME.ts and
// exports `default (argv: string[]) => Promise<number>` (the exit status).
const COMMANDS: Record<string, string> = {
  ask: 'research one question in the terminal (--json for one event per line)',
  search: 'print what web_search returns for a query (--json)',
  visit: 'print what web_visit returns for each URL (--json)',
  serve: 'run the bot on every platform whose credentials are configured',
  discord: 'discord register [--guild ID]: register the /research command',
  doctor: 'check every configured part and say what to fix (--json)',
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, what]) => `  ${name.padEnd(8)} ${what}`);
  return `usage: npm run -s cir-bot -- COMMAND [options]\n\ncommands:\n${lines.join('\n')}\n`;
}

const [name, ...rest] = process.argv.slice(2);
if (!name || name === '--help' || name === '-h' || name === 'help') {
  process.stdout.write(usage());
  process.exitCode = name ? 0 : 2;
} else if (!(name in COMMANDS)) {
  process.stderr.write(`cir-bot: unknown command '${name}'\n\n${usage()}`);
  process.exitCode = 2;
} else {
  // Node keeps the compiled (and type-stripped) modules in a cache directory: later starts skip
  // both. NODE_COMPILE_CACHE, if set, says where; NODE_DISABLE_COMPILE_CACHE=1 turns it off.
  (await import('node:module')).enableCompileCache?.();
  const mod = (await import(`./commands/${name}.ts`)) as { default: (argv: string[]) => Promise<number> };
  process.exitCode = await mod.default(rest);
}
