// The /research slash command and its registration (globally, or in one guild: guild commands
// appear at once, global ones can take up to an hour to propagate).
import { PermissionFlagsBits, Routes, type REST } from 'discord.js';

/** Application command JSON (type 1 = chat input; option type 3 = string). */
export const RESEARCH_COMMAND = {
  name: 'research',
  type: 1,
  description: 'Research a question on the web and answer with cited sources',
  // Usable in servers and in DMs with the bot.
  contexts: [0, 1],
  integration_types: [0],
  options: [
    {
      type: 3,
      name: 'question',
      description: 'What do you want to know?',
      required: true,
      min_length: 1,
      max_length: 4000,
    },
  ],
} as const;

export interface RegisteredCommand {
  id: string;
  name: string;
}

/** Overwrites the application's commands (global or one guild's) with /research. */
export async function registerCommands(rest: REST, applicationId: string, guildId?: string): Promise<RegisteredCommand[]> {
  const route = guildId ? Routes.applicationGuildCommands(applicationId, guildId) : Routes.applicationCommands(applicationId);
  return (await rest.put(route, { body: [RESEARCH_COMMAND] })) as RegisteredCommand[];
}

/** Exactly the channel permissions the bot uses (README.md (Discord section) explains each). */
export const BOT_PERMISSIONS =
  PermissionFlagsBits.ViewChannel |
  PermissionFlagsBits.SendMessages |
  PermissionFlagsBits.AttachFiles |
  PermissionFlagsBits.ReadMessageHistory |
  PermissionFlagsBits.CreatePublicThreads |
  PermissionFlagsBits.SendMessagesInThreads;

/** The OAuth2 URL that adds the bot to a server with BOT_PERMISSIONS and the slash command scope. */
export function inviteUrl(applicationId: string): string {
  return `https://discord.com/oauth2/authorize?client_id=${applicationId}&scope=bot%20applications.commands&permissions=${BOT_PERMISSIONS}`;
}
