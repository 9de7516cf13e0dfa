// `npm run test:corpus`: the tests that replay the recorded corpora (test-corpus/*.test.ts).
// Without the corpus it says so and exits 0, so that a lone clone stays green.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CORPUS_DIR, corpusPresent } from './corpus.ts';

if (!corpusPresent()) {
  console.log(`test:corpus: SKIPPED, no corpus at ${CORPUS_DIR} (lay shared/ beside the clone or set CIR_CORPUS_DIR)`);
  process.exit(0);
}
const files = readdirSync(import.meta.dirname)
  .filter((f) => f.endsWith('.test.ts'))
  .sort()
  .map((f) => join(import.meta.dirname, f));
console.log(`test:corpus: ${files.length} files against ${CORPUS_DIR}`);
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=120000', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
