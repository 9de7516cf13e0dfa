// The /research slash command and its registration (globally, or in one guild: guild commands
// appear at once, global ones can take up to an hour to propagate).
import { Routes, type REST } from 'discord.js';

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
