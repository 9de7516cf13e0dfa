// Where the recorded corpora live: ../shared/fixtures beside the clone (CI lays shared/ there), or
// CIR_CORPUS_DIR. Only `npm run test:corpus` and the extraction benchmark read them; `npm test`
// never does (its own fixtures are under test/fixtures).
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const CORPUS_DIR = process.env.CIR_CORPUS_DIR
  ? resolve(process.env.CIR_CORPUS_DIR)
  : resolve(import.meta.dirname, '..', '..', 'shared', 'fixtures');

/** Recorded Slack and Discord payloads (<scenario>-<platform>.json). */
export const CORPUS_PAYLOADS = join(CORPUS_DIR, 'platform-payloads');
/** Readability's test pages (<name>/source.html and expected.html). */
export const CORPUS_PAGES = join(CORPUS_DIR, 'readability-pages');

export function corpusPresent(): boolean {
  return existsSync(CORPUS_PAYLOADS) && existsSync(CORPUS_PAGES);
}
