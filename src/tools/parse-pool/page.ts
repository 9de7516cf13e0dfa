// Fetched bytes -> the page the model reads: readable text (HTML), plain text, or PDF text.
// Pure and CPU-bound: it runs inside a parse-pool worker, never on the main event loop.
import { type HtmlCaps } from '../extract/caps.ts';
import { extractReadable } from '../extract/index.ts';
import { decodeBody } from '../fetch/decode.ts';
import type { Fetched } from '../fetch/http.ts';
import { type PdfCaps, pdfToText } from '../pdf.ts';
import type { VisitedPage } from '../types.ts';

export interface ReadLimits {
  maxPdfPages: number;
  /** Defaults: DEFAULT_HTML_CAPS, DEFAULT_PDF_CAPS. */
  htmlCaps?: HtmlCaps;
  pdfCaps?: PdfCaps;
}

export async function readPage(url: string, f: Fetched, limits: ReadLimits): Promise<VisitedPage> {
  const base = { url, finalUrl: f.finalUrl, contentType: f.contentType };
  const note = f.truncated ? `\n\n[page truncated after ${Math.round(f.bytes.length / 1024)} KB]` : '';
  if (f.kind === 'pdf') {
    const pdf = await pdfToText(f.bytes, limits.maxPdfPages, limits.pdfCaps);
    const text = normalisePlain(pdf.text);
    const more = pdf.read < pdf.pages ? `\n\n[first ${pdf.read} of ${pdf.pages} pages]` : '';
    const cut = pdf.capped ? `\n\n[text cut after ${pdf.read} pages: ${pdf.capped}]` : '';
    return { ...base, title: pdf.title || fileName(f.finalUrl), text: (text || '(the PDF has no extractable text)') + more + cut };
  }
  const body = decodeBody(f.bytes, f.contentType);
  if (f.kind === 'text' && !(/xml/i.test(f.contentType) && /<html[\s>]/i.test(body.slice(0, 2048)))) {
    return { ...base, title: fileName(f.finalUrl), text: normalisePlain(body) + note };
  }
  const { title, text } = extractReadable(body, f.finalUrl, limits.htmlCaps);
  return { ...base, title, text: (text || '(the page has no readable text)') + note };
}

function normalisePlain(s: string): string {
  return s
    .replace(/\r\n?/g, '\n')
    .replace(/[ \t\u00a0]+/g, ' ')
    .replace(/ *\n */g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

function fileName(url: string): string {
  try {
    const u = new URL(url);
    const last = decodeURIComponent(u.pathname.split('/').filter(Boolean).pop() ?? '');
    return last || u.hostname;
  } catch {
    return url;
  }
}
