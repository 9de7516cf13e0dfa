// deploy/slack-manifest.yaml asks for exactly the scopes and events the adapter uses, and
// the README justifies each of them.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse } from 'yaml';
import { startFakeSlack } from '../fakes/slack.ts';

const read = (p: string) => readFileSync(new URL(`../../${p}`, import.meta.url), 'utf8');

/** The `- item` lines of the YAML list under `key:` (enough for this flat manifest). */
function yamlList(yaml: string, key: string): string[] {
  const lines = yaml.split('\n');
  const start = lines.findIndex((l) => l.trim() === `${key}:`);
  assert.ok(start >= 0, `no ${key} in the manifest`);
  const indent = lines[start].search(/\S/);
  const out: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (!line.trim() || line.trim().startsWith('#')) continue;
    if (line.search(/\S/) <= indent && !line.trim().startsWith('- ')) break;
    const m = /^\s*-\s+(\S+)\s*$/.exec(line);
    if (!m) break;
    out.push(m[1]);
  }
  return out;
}

test('manifest scopes and events are exactly the used ones, each explained in the README', () => {
  const manifest = read('deploy/slack-manifest.yaml');
  const docs = read('README.md');
  const scopes = yamlList(manifest, 'bot');
  assert.deepEqual(scopes.sort(), ['app_mentions:read', 'assistant:write', 'channels:history', 'chat:write', 'files:write', 'groups:history', 'im:history']);
  const events = yamlList(manifest, 'bot_events');
  assert.deepEqual(events.sort(), ['app_home_opened', 'app_mention', 'message.channels', 'message.groups', 'message.im']);
  for (const s of scopes) assert.match(docs, new RegExp(`\\| \`${s}\` \\|`), `the README explains ${s}`);
  assert.match(manifest, /agent_view:\n\s+agent_description: \S/, 'the agent messaging experience, described');
  assert.match(manifest, /interactivity:\n\s+is_enabled: true/, 'buttons need interactivity');
});

/** Asks the fake's apps.manifest.validate (with the configuration token, as Slack wants) about a manifest. */
async function validate(apiUrl: string, token: string, manifest: unknown): Promise<{ ok: boolean; errors?: { pointer: string }[] }> {
  const res = await fetch(`${apiUrl}apps.manifest.validate`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${token}` },
    body: new URLSearchParams({ manifest: JSON.stringify(manifest) }),
  });
  return (await res.json()) as { ok: boolean; errors?: { pointer: string }[] };
}

test('Slack accepts the manifest (agent_view) and would refuse the legacy assistant_view', async () => {
  const fake = await startFakeSlack();
  try {
    const manifest = parse(read('deploy/slack-manifest.yaml')) as Record<string, any>;
    assert.deepEqual(await validate(fake.apiUrl, fake.configToken, manifest), { ok: true });
    const legacy = structuredClone(manifest);
    legacy.features.assistant_view = { assistant_description: 'old' };
    delete legacy.features.agent_view;
    const refused = await validate(fake.apiUrl, fake.configToken, legacy);
    assert.equal(refused.ok, false);
    assert.deepEqual(refused.errors?.map((e) => e.pointer), ['/features/assistant_view']);
    assert.equal((await validate(fake.apiUrl, fake.botToken, manifest)).ok, false, 'a bot token cannot validate manifests');
  } finally {
    await fake.close();
  }
});
