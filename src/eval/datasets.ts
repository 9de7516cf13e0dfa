// Benchmark files as they are published: SimpleQA's CSV (metadata, problem, answer), FRAMES' TSV
// (Prompt, Answer, ...), SealQA's JSON (question, answer; an array, JSONL, or {data: [...]}).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';

export type Benchmark = 'simpleqa' | 'frames' | 'seal-0' | 'other';

export interface EvalItem {
  /** Stable across runs of the same file: row index plus a hash of the question. */
  id: string;
  question: string;
  answer: string;
}

export interface Dataset {
  name: string;
  benchmark: Benchmark;
  items: EvalItem[];
}

export class DatasetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatasetError';
  }
}

/** RFC 4180 reader: quoted fields may hold the delimiter, newlines and doubled quotes. */
export function parseDelimited(text: string, delimiter = ','): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let fieldStart = true;
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        continue;
      }
      field += c;
      i++;
      continue;
    }
    if (c === '"' && fieldStart) {
      quoted = true;
      fieldStart = false;
      i++;
    } else if (c === delimiter) {
      row.push(field);
      field = '';
      fieldStart = true;
      i++;
    } else if (c === '\n' || c === '\r') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      fieldStart = true;
      i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
    } else {
      field += c;
      fieldStart = false;
      i++;
    }
  }
  if (quoted) throw new DatasetError('unterminated quoted field at end of file');
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  // Blank lines are not records.
  return rows.filter((r) => !(r.length === 1 && r[0] === ''));
}

const QUESTION_KEYS = ['problem', 'question', 'prompt', 'query'];
const ANSWER_KEYS = ['answer', 'gold', 'target', 'expected_answer'];

function pickKey(keys: string[], wanted: string[]): string | undefined {
  const lower = new Map(keys.map((k) => [k.trim().toLowerCase(), k]));
  for (const w of wanted) if (lower.has(w)) return lower.get(w);
  return undefined;
}

function makeItems(records: Array<Record<string, unknown>>, source: string): EvalItem[] {
  if (records.length === 0) throw new DatasetError(`${source}: no records`);
  const keys = Object.keys(records[0]);
  const qKey = pickKey(keys, QUESTION_KEYS);
  const aKey = pickKey(keys, ANSWER_KEYS);
  if (!qKey || !aKey)
    throw new DatasetError(
      `${source}: need a question column (${QUESTION_KEYS.join('/')}) and an answer column (${ANSWER_KEYS.join('/')}); found: ${keys.join(', ')}`,
    );
  return records.map((r, i) => {
    const question = String(r[qKey] ?? '').trim();
    const answer = Array.isArray(r[aKey]) ? (r[aKey] as unknown[]).join(' | ') : String(r[aKey] ?? '').trim();
    if (!question) throw new DatasetError(`${source}: record ${i + 1} has an empty question`);
    const hash = createHash('sha256').update(question).digest('hex').slice(0, 10);
    return { id: `${i}:${hash}`, question, answer };
  });
}

function tableRecords(text: string, delimiter: string, source: string): Array<Record<string, unknown>> {
  const rows = parseDelimited(text, delimiter);
  if (rows.length < 2) throw new DatasetError(`${source}: expected a header row and at least one record`);
  const [header, ...body] = rows;
  return body.map((cells, n) => {
    if (cells.length !== header.length)
      throw new DatasetError(`${source}: record ${n + 1} has ${cells.length} fields, the header has ${header.length}`);
    return Object.fromEntries(header.map((h, i) => [h, cells[i]]));
  });
}

function jsonRecords(text: string, source: string): Array<Record<string, unknown>> {
  const trimmed = text.replace(/^\uFEFF/, '').trim();
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch {
    // JSON Lines: one object per line.
    return trimmed
      .split(/\r?\n/)
      .filter((l) => l.trim())
      .map((line, i) => {
        try {
          return JSON.parse(line) as Record<string, unknown>;
        } catch (err) {
          throw new DatasetError(`${source}: line ${i + 1} is not JSON (${(err as Error).message})`);
        }
      });
  }
  if (Array.isArray(parsed)) return parsed as Array<Record<string, unknown>>;
  if (parsed && typeof parsed === 'object') {
    const arr = Object.values(parsed).find(Array.isArray);
    if (arr) return arr as Array<Record<string, unknown>>;
    return [parsed as Record<string, unknown>];
  }
  throw new DatasetError(`${source}: expected an array of {question, answer} objects`);
}

export function guessBenchmark(file: string, format: 'csv' | 'tsv' | 'json'): Benchmark {
  const name = basename(file).toLowerCase();
  if (name.includes('simpleqa') || name.includes('simple_qa')) return 'simpleqa';
  if (name.includes('frames')) return 'frames';
  if (name.includes('seal')) return 'seal-0';
  return format === 'csv' ? 'simpleqa' : format === 'tsv' ? 'frames' : 'seal-0';
}

/** Parses text of a known format into items. */
export function parseDataset(text: string, format: 'csv' | 'tsv' | 'json', source: string = format): EvalItem[] {
  if (format === 'json') return makeItems(jsonRecords(text, source), source);
  return makeItems(tableRecords(text, format === 'csv' ? ',' : '\t', source), source);
}

export function formatOf(file: string): 'csv' | 'tsv' | 'json' {
  const ext = extname(file).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.tsv' || ext === '.tab') return 'tsv';
  if (ext === '.json' || ext === '.jsonl' || ext === '.ndjson') return 'json';
  throw new DatasetError(`${file}: unknown format '${ext}' (expected .csv, .tsv, .json or .jsonl)`);
}

export function loadDataset(file: string, benchmark?: Benchmark): Dataset {
  const format = formatOf(file);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new DatasetError(`cannot read ${file}: ${(err as Error).message}`);
  }
  return { name: basename(file), benchmark: benchmark ?? guessBenchmark(file, format), items: parseDataset(text, format, file) };
}
