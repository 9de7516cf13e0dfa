// deploy/slack-manifest.yaml asks for exactly the scopes and events the adapter uses, and
// the README justifies each of them.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

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
  assert.deepEqual(events.sort(), ['app_mention', 'message.channels', 'message.groups', 'message.im']);
  for (const s of scopes) assert.match(docs, new RegExp(`\\| \`${s}\` \\|`), `the README explains ${s}`);
  assert.match(manifest, /assistant_view:/, 'assistant:write needs the assistant_view feature');
  assert.match(manifest, /interactivity:\n\s+is_enabled: true/, 'buttons need interactivity');
});
