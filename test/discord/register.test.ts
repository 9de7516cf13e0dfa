// `cir-bot discord register` as a subprocess against the fake Discord.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { BOT_PERMISSIONS } from '../../src/platforms/discord/command.ts';
import { startFakeDiscord } from '../fakes/discord.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function run(env: Record<string, string>, args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    // process.execPath is the Node 24 that runs this test (npm test uses the pinned one).
    const p = spawn(process.execPath, ['src/main.ts', 'discord', ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DISCORD_GUILD_ID: '', ...env },
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => resolve({ code, out, err }));
  });
}

test('discord register: guild and global registration, clear errors for a bad token or missing settings', async () => {
  const fake = await startFakeDiscord();
  try {
    const base = { DISCORD_TOKEN: fake.token, DISCORD_APPLICATION_ID: fake.applicationId, DISCORD_API_URL: fake.apiUrl };

    const guild = await run(base, ['register', '--guild', fake.guildId]);
    assert.equal(guild.code, 0, guild.err);
    assert.match(guild.out, /Registered \/research in guild/);
    assert.ok(guild.out.includes(`client_id=${fake.applicationId}&scope=bot%20applications.commands&permissions=309237746688`));
    const [cmd] = fake.commands.get(fake.guildId)!;
    assert.equal(cmd.name, 'research');
    assert.deepEqual(
      cmd.options.map((o: { name: string; type: number; required: boolean }) => [o.name, o.type, o.required]),
      [['question', 3, true]],
    );
    const put = fake.requests.find((r) => r.method === 'PUT')!;
    assert.equal(put.path, `/applications/${fake.applicationId}/guilds/${fake.guildId}/commands`);
    assert.equal(put.auth, `Bot ${fake.token}`);

    const global = await run(base, ['register']);
    assert.equal(global.code, 0, global.err);
    assert.match(global.out, /globally/);
    assert.equal(fake.commands.get('global')?.[0].name, 'research');

    const bad = await run({ ...base, DISCORD_TOKEN: 'OTk5.WRONG.not-the-real-token-at-all' }, ['register']);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /401/);
    assert.match(bad.err, /DISCORD_TOKEN/);

    const missing = await run({ DISCORD_API_URL: fake.apiUrl, DISCORD_TOKEN: '', DISCORD_APPLICATION_ID: '' }, ['register']);
    assert.equal(missing.code, 2);
    assert.match(missing.err, /DISCORD_TOKEN and DISCORD_APPLICATION_ID are not set/);

    const badGuild = await run(base, ['register', '--guild', 'abc']);
    assert.equal(badGuild.code, 2);
    assert.match(badGuild.err, /numeric guild id/);
  } finally {
    await fake.close();
  }
});

test('the invite permissions in the README match what the code asks for', () => {
  const doc = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  assert.ok(doc.includes(`permissions=${BOT_PERMISSIONS}`), 'invite URL');
  assert.ok(doc.includes(`**${BOT_PERMISSIONS}**`), 'table total');
});
