// `npm run bench`: runs every bench/*.bench.ts in turn. Each prints its figures as ratios against a
// baseline measured in the same process, because this machine is shared and noisy.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const only = process.argv.slice(2);
const dir = import.meta.dirname;
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();
for (const f of files) {
  console.log(`\n## ${f.replace('.bench.ts', '')}`);
  const mod = (await import(join(dir, f))) as { default: () => Promise<void> };
  await mod.default();
}
