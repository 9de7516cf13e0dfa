// Payload builders for the fake Discord. The templates are our own fixtures in the shapes Discord
// documents (test/fixtures/discord/gateway.ts, which names the documentation pages); a builder
// clones one and changes only ids, content, mentions and the invoker.
import * as F from '../fixtures/discord/gateway.ts';

type Json = Record<string, any>;

const clone = <T>(v: T): T => structuredClone(v);

/** Ids of the fixtures; the fake uses them by default so that fixture replays fit. */
export const FIXTURE_IDS = F.IDS;

export function userObject(id: string, username: string, bot = false): Json {
  return { ...clone(F.user), id, username, global_name: username, ...(bot ? { bot: true } : {}) };
}

/** READY for a new gateway session. */
export function ready(o: { user: Json; sessionId: string; resumeUrl: string; guildId: string; applicationId: string }): Json {
  const d: Json = clone(F.ready);
  d.user = o.user;
  d.session_id = o.sessionId;
  d.resume_gateway_url = o.resumeUrl;
  d.guilds = [{ id: o.guildId, unavailable: true }];
  d.application = { ...d.application, id: o.applicationId };
  return d;
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

/** A MESSAGE_CREATE `d` built from the fixture mention. */
export function messageCreate(spec: MessageSpec): Json {
  const d: Json = clone(F.mention);
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

/** A button click INTERACTION_CREATE `d` built from the fixture button click. */
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
  const d: Json = clone(F.foreignButtonClick);
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

/** A /research INTERACTION_CREATE `d` built from the fixture slash command. */
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
  const d: Json = clone(F.slashCommand);
  d.id = o.id;
  d.token = o.token;
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
