// `npm run -s cir-bot -- discord register [--guild ID]`: registers the /research slash command
// globally (may take up to an hour to appear everywhere) or in one guild (immediate; for testing).
import { REST } from 'discord.js';
import { inviteUrl, registerCommands } from '../platforms/discord/command.ts';
import { discordCode, httpStatus } from '../platforms/discord/errors.ts';
import { commandLine, configOrReport, EXIT_USAGE } from './common.ts';

const USAGE = `usage: npm run -s cir-bot -- discord register [--guild ID]

Registers the /research command for DISCORD_APPLICATION_ID with DISCORD_TOKEN: globally, or only
in guild ID (--guild, or DISCORD_GUILD_ID) where it appears at once.
`;

export default async function discord(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === '--help' || sub === '-h' || sub === 'help') {
    process.stdout.write(USAGE);
    return sub ? 0 : EXIT_USAGE;
  }
  if (sub !== 'register') {
    process.stderr.write(`cir-bot discord: unknown subcommand '${sub}'\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  const args = commandLine('cir-bot discord register', USAGE, rest, { string: ['guild'], positionals: false });
  if (typeof args === 'number') return args;
  let guild = args.flags.guild as string | undefined;
  if (guild !== undefined && !/^\d+$/.test(guild)) {
    process.stderr.write(`cir-bot discord register: --guild must be a numeric guild id, got '${guild}'\n`);
    return EXIT_USAGE;
  }
  const env = configOrReport('cir-bot discord register');
  if (!env) return EXIT_USAGE;
  const missing = [!env.DISCORD_TOKEN && 'DISCORD_TOKEN', !env.DISCORD_APPLICATION_ID && 'DISCORD_APPLICATION_ID'].filter(Boolean);
  if (missing.length) {
    process.stderr.write(
      `cir-bot discord register: ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not set ` +
        `(Developer Portal: Bot -> Token; General Information -> Application ID; see the Discord section of README.md)\n`,
    );
    return EXIT_USAGE;
  }
  guild ??= env.DISCORD_GUILD_ID;

  const restClient = new REST({ api: env.DISCORD_API_URL, retries: 1, timeout: 15_000 }).setToken(env.DISCORD_TOKEN!);
  try {
    const cmds = await registerCommands(restClient, env.DISCORD_APPLICATION_ID!, guild);
    const where = guild ? `in guild ${guild} (available now)` : 'globally (may take up to an hour to appear)';
    process.stdout.write(`Registered ${cmds.map((c) => `/${c.name}`).join(', ')} ${where}.\n`);
    process.stdout.write(`Invite the bot with: ${inviteUrl(env.DISCORD_APPLICATION_ID!)}\n`);
    return 0;
  } catch (err) {
    const status = httpStatus(err);
    const code = discordCode(err);
    let hint = err instanceof Error ? err.message : String(err);
    if (status === 401) hint = 'Discord rejected DISCORD_TOKEN (401 Unauthorized): copy the bot token again from the Developer Portal.';
    else if (status === 403 || code === 50001)
      hint = guild
        ? `no access to guild ${guild} (403): invite the bot there first (README.md, Discord section), or check DISCORD_APPLICATION_ID.`
        : 'forbidden (403): DISCORD_APPLICATION_ID does not belong to this token.';
    else if (status === 404) hint = 'not found (404): check DISCORD_APPLICATION_ID and --guild.';
    process.stderr.write(`cir-bot discord register: ${hint}\n`);
    return 1;
  }
}
