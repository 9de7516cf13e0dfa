// PDF -> text with unpdf (pdf.js). Reads at most `maxPages` pages so a 900-page report cannot hold
// the process for long; the model sees a few thousand tokens of it anyway.
import { ToolError } from './types.ts';

export interface PdfText {
  title: string;
  text: string;
  pages: number;
  /** Pages actually read. */
  read: number;
}

export async function pdfToText(bytes: Uint8Array, maxPages = 100): Promise<PdfText> {
  const { getDocumentProxy } = await import('unpdf');
  let doc: Awaited<ReturnType<typeof getDocumentProxy>>;
  try {
    doc = await getDocumentProxy(new Uint8Array(bytes));
  } catch {
    throw new ToolError('pdf', 'the PDF could not be read');
  }
  try {
    const read = Math.min(doc.numPages, maxPages);
    const pages: string[] = [];
    for (let i = 1; i <= read; i++) {
      const page = await doc.getPage(i);
      const content = await page.getTextContent();
      let text = '';
      for (const item of content.items) {
        if (!('str' in item)) continue;
        text += item.str;
        if (item.hasEOL) text += '\n';
        else if (item.str && !text.endsWith(' ')) text += ' ';
      }
      pages.push(text);
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
    return { title, text: pages.join('\n\n'), pages: doc.numPages, read };
  } finally {
    await doc.destroy().catch(() => {});
  }
}
