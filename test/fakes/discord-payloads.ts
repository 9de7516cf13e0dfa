// Payload builders for the fake Discord, shaped after the real recorded traffic in
// ../shared/fixtures/platform-payloads/*-discord.json (the fixtures are the templates: we copy a
// recorded payload and change only ids, content and mentions).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const FIXTURES = fileURLToPath(new URL('../../../shared/fixtures/platform-payloads/', import.meta.url));

type Json = Record<string, any>;

/** The recorded gateway traffic (named payloads: gatewayMention, gatewayRoleMention, buttonClickHello, ...). */
export function loadGatewayFixture(): Json {
  return JSON.parse(readFileSync(FIXTURES + 'gateway-discord.json', 'utf8'));
}

export function loadChannelFixture(): Json {
  return JSON.parse(readFileSync(FIXTURES + 'channel-discord.json', 'utf8'));
}

const clone = <T>(v: T): T => structuredClone(v);

/** Ids used by the recorded fixtures; the fake uses them by default so that replays fit. */
export const FIXTURE_IDS = (() => {
  const m = loadGatewayFixture().metadata;
  return {
    botId: m.botId as string,
    guildId: m.guildId as string,
    channelId: m.channelId as string,
    threadId: m.threadId as string,
    userId: m.userId as string,
    userName: m.userName as string,
    roleId: m.roleId as string,
  };
})();

export function userObject(id: string, username: string, bot = false): Json {
  const base = clone(loadGatewayFixture().gatewayMention.data.author);
  return { ...base, id, username, global_name: username, ...(bot ? { bot: true } : {}) };
}

export interface MessageSpec {
  id: string;
  channelId: string;
  guildId: string | null;
  channelType: number;
  author: Json;
  content: string;
  mentions: Json[];
  mentionRoles?: string[];
  mentionEveryone?: boolean;
  timestamp: string;
  type?: number;
  referencedMessageId?: string;
}

/** A MESSAGE_CREATE `d` built from the recorded gatewayMention payload. */
export function messageCreate(spec: MessageSpec): Json {
  const d = clone(loadGatewayFixture().gatewayMention.data);
  d.id = spec.id;
  d.nonce = spec.id;
  d.channel_id = spec.channelId;
  d.channel_type = spec.channelType;
  d.author = spec.author;
  d.content = spec.content;
  d.mentions = spec.mentions;
  d.mention_roles = spec.mentionRoles ?? [];
  d.mention_everyone = spec.mentionEveryone ?? false;
  d.timestamp = spec.timestamp;
  d.type = spec.type ?? 0;
  if (spec.referencedMessageId) d.message_reference = { message_id: spec.referencedMessageId, channel_id: spec.channelId };
  if (spec.guildId) d.guild_id = spec.guildId;
  else {
    delete d.guild_id;
    delete d.member;
  }
  return d;
}

/** A button click INTERACTION_CREATE `d` built from the recorded buttonClickHello payload. */
export function buttonInteraction(o: {
  id: string;
  token: string;
  applicationId: string;
  guildId: string | null;
  channel: Json;
  user: Json;
  customId: string;
  message: Json;
  appPermissions: string;
}): Json {
  const d = clone(loadGatewayFixture().buttonClickHello);
  d.id = o.id;
  d.token = o.token;
  d.application_id = o.applicationId;
  d.channel = o.channel;
  d.channel_id = o.channel.id;
  d.data = { component_type: 2, custom_id: o.customId };
  d.message = o.message;
  d.app_permissions = o.appPermissions;
  setInvoker(d, o.guildId, o.user);
  return d;
}

/** A /research INTERACTION_CREATE `d`: the recorded button interaction with command data instead. */
export function commandInteraction(o: {
  id: string;
  token: string;
  applicationId: string;
  commandId: string;
  guildId: string | null;
  channel: Json;
  user: Json;
  name: string;
  options: Json[];
  appPermissions: string;
}): Json {
  const d = clone(loadGatewayFixture().buttonClickHello);
  d.id = o.id;
  d.token = o.token;
  d.type = 2;
  d.application_id = o.applicationId;
  d.channel = o.channel;
  d.channel_id = o.channel.id;
  d.data = { id: o.commandId, name: o.name, type: 1, options: o.options };
  delete d.message;
  d.app_permissions = o.appPermissions;
  setInvoker(d, o.guildId, o.user);
  return d;
}

function setInvoker(d: Json, guildId: string | null, user: Json): void {
  if (guildId) {
    d.guild_id = guildId;
    d.guild = { ...(d.guild ?? {}), id: guildId };
    d.member = { ...(d.member ?? {}), user };
    delete d.user;
    d.context = 0;
  } else {
    delete d.guild_id;
    delete d.guild;
    delete d.member;
    delete d.authorizing_integration_owners;
    d.user = user;
    d.context = 1;
  }
}

/** A guild text channel / public thread / DM channel object. */
export function channelObject(c: { id: string; type: number; guildId?: string; parentId?: string; name?: string; ownerId?: string }): Json {
  if (c.type === 1) return { id: c.id, type: 1, flags: 0, last_message_id: null, recipients: [] };
  const o: Json = {
    id: c.id,
    type: c.type,
    guild_id: c.guildId,
    name: c.name ?? `channel-${c.id.slice(-4)}`,
    flags: 0,
    last_message_id: null,
    rate_limit_per_user: 0,
    nsfw: false,
    position: 0,
    permission_overwrites: [],
  };
  if (c.parentId) o.parent_id = c.parentId;
  if (c.type === 11 || c.type === 12) {
    const now = new Date().toISOString();
    o.owner_id = c.ownerId;
    o.member_count = 2;
    o.message_count = 0;
    o.total_message_sent = 0;
    o.thread_metadata = { archived: false, auto_archive_duration: 1440, archive_timestamp: now, locked: false, create_timestamp: now };
    delete o.permission_overwrites;
    delete o.position;
  }
  return o;
}

/** The GUILD_CREATE `d` for one guild with the given channels (as a real gateway sends with the Guilds intent). */
export function guildCreate(o: { guildId: string; channels: Json[]; threads: Json[]; botUser: Json; everyonePermissions: string }): Json {
  return {
    id: o.guildId,
    name: 'Research Guild',
    icon: null,
    splash: null,
    discovery_splash: null,
    owner_id: '1000000000000000001', // not the test user: owners bypass every permission
    afk_channel_id: null,
    afk_timeout: 300,
    verification_level: 0,
    default_message_notifications: 0,
    explicit_content_filter: 0,
    roles: [
      { id: o.guildId, name: '@everyone', color: 0, hoist: false, position: 0, permissions: o.everyonePermissions, managed: false, mentionable: false, flags: 0 },
    ],
    emojis: [],
    stickers: [],
    features: [],
    mfa_level: 0,
    system_channel_id: null,
    system_channel_flags: 0,
    rules_channel_id: null,
    vanity_url_code: null,
    description: null,
    banner: null,
    premium_tier: 0,
    preferred_locale: 'en-US',
    public_updates_channel_id: null,
    nsfw_level: 0,
    premium_progress_bar_enabled: false,
    joined_at: '2026-01-04T20:39:45.451082+00:00',
    large: false,
    unavailable: false,
    member_count: 2,
    voice_states: [],
    members: [{ user: o.botUser, roles: [], joined_at: '2026-01-04T20:39:45.451082+00:00', deaf: false, mute: false, flags: 0 }],
    channels: o.channels,
    threads: o.threads,
    presences: [],
    stage_instances: [],
    guild_scheduled_events: [],
  };
}
