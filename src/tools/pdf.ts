// PDF -> text with unpdf (pdf.js). Bounded three ways, because a few KB of PDF can inflate to
// megabytes of text operators and pdf.js's text layout is superlinear in them:
//  - before pdf.js sees the file, its Flate streams (other than images) are inflated with an
//    output cap: a file that inflates past it is refused;
//    and so is a stream with more text-showing operators than a real page has;
//  - reading stops at a cap on characters per document;
//  - at most `maxPages` pages are read.
// The caller (a parse-pool worker) adds the wall-time deadline that terminates the thread.
import zlib from 'node:zlib';
import { ToolError } from './types.ts';

export interface PdfText {
  title: string;
  text: string;
  pages: number;
  /** Pages actually read. */
  read: number;
  /** Why reading stopped early, when a text cap did it. */
  capped?: string;
}

export interface PdfCaps {
  /** Decompressed bytes of one Flate stream (images excluded). */
  maxStreamBytes: number;
  /** Decompressed bytes of all Flate streams together (images excluded). */
  maxInflatedBytes: number;
  /** Text-showing operators in one stream (a dense real page has a few thousand). */
  maxTextOps: number;
  /** Characters of the whole document. */
  maxChars: number;
}

export const DEFAULT_PDF_CAPS: PdfCaps = {
  maxStreamBytes: 16 * 1024 * 1024,
  maxInflatedBytes: 64 * 1024 * 1024,
  maxTextOps: 30_000,
  maxChars: 1_000_000,
};

export async function pdfToText(bytes: Uint8Array, maxPages = 100, caps: PdfCaps = DEFAULT_PDF_CAPS): Promise<PdfText> {
  checkInflatedSize(bytes, caps);
  const { getDocumentProxy } = await import('unpdf');
  let doc: Awaited<ReturnType<typeof getDocumentProxy>>;
  try {
    doc = await getDocumentProxy(new Uint8Array(bytes));
  } catch {
    throw new ToolError('pdf', 'the PDF could not be read');
  }
  try {
    const last = Math.min(doc.numPages, maxPages);
    const pages: string[] = [];
    let chars = 0;
    let capped: string | undefined;
    let read = 0;
    for (let i = 1; i <= last && !capped; i++) {
      const page = await doc.getPage(i);
      const r = pageText((await page.getTextContent()).items as TextItem[], caps.maxChars - chars);
      pages.push(r.text);
      chars += r.text.length;
      capped = r.capped;
      read = i;
      page.cleanup();
    }
    let title = '';
    try {
      const meta = await doc.getMetadata();
      const info = meta.info as { Title?: unknown } | undefined;
      title = typeof info?.Title === 'string' ? info.Title.trim() : '';
    } catch {
      // metadata is optional
    }
    return { title, text: pages.join('\n\n'), pages: doc.numPages, read, ...(capped ? { capped } : {}) };
  } finally {
    await doc.destroy().catch(() => {});
  }
}

interface TextItem {
  str?: string;
  hasEOL?: boolean;
}

function pageText(items: readonly TextItem[], maxChars: number): { text: string; capped?: string } {
  let text = '';
  for (const item of items) {
    if (typeof item.str !== 'string') continue;
    text += item.str;
    if (item.hasEOL) text += '\n';
    else if (item.str && !text.endsWith(' ')) text += ' ';
    if (text.length > maxChars) return { text: text.slice(0, Math.max(0, maxChars)), capped: 'the text limit was reached' };
  }
  return { text };
}

/** Text-showing operators (Tj, TJ) in a content stream. pdf.js lays text out in time superlinear
 *  in their number (80000 one-word BT/ET blocks: 14 s), so their count is capped up front. */
function countTextOps(b: Buffer): number {
  let n = 0;
  for (let i = b.indexOf('T'); i !== -1 && i < b.length - 1; i = b.indexOf('T', i + 1)) {
    const c = b[i + 1];
    if (c === 0x6a || c === 0x4a) n++; // j, J
  }
  return n;
}

/** Inflates every non-image FlateDecode stream with an output cap and refuses the file when one
 *  stream or all of them together inflate past the caps. Streams that do not inflate (encrypted,
 *  damaged) are left for pdf.js to judge. Linear in the file size and bounded in output. */
export function checkInflatedSize(bytes: Uint8Array, caps: PdfCaps): void {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let total = 0;
  for (let at = buf.indexOf('stream'); at !== -1; at = buf.indexOf('stream', at + 6)) {
    if (buf.subarray(Math.max(0, at - 3), at).toString('latin1') === 'end') continue;
    const dict = buf.subarray(Math.max(0, at - 1024), at).toString('latin1');
    const open = dict.lastIndexOf('<<');
    const head = open === -1 ? dict : dict.slice(open);
    if (!/\/FlateDecode\b|\/Fl\b/.test(head) || /\/Subtype\s*\/Image\b/.test(head)) continue;
    let start = at + 6;
    if (buf[start] === 0x0d) start++;
    if (buf[start] === 0x0a) start++;
    const end = buf.indexOf('endstream', start);
    if (end === -1) break;
    const budget = Math.min(caps.maxStreamBytes, caps.maxInflatedBytes - total);
    let out: Buffer;
    try {
      out = zlib.inflateSync(buf.subarray(start, end), { maxOutputLength: Math.max(1, budget), finishFlush: zlib.constants.Z_SYNC_FLUSH });
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
        throw new ToolError('too_large', `the PDF inflates to more than ${Math.round(budget / 1024 / 1024)} MB of content: not read`);
      }
      continue;
    }
    total += out.length;
    const ops = countTextOps(out);
    if (ops > caps.maxTextOps)
      throw new ToolError('too_large', `the PDF has a page of more than ${caps.maxTextOps} text pieces (${ops}): not read`);
    at = end;
  }
}
