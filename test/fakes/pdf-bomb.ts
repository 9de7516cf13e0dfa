// Builds small PDFs for tests: one page per content stream, Flate-compressed (ISO 32000-1 §7.3.8
// stream objects, §7.4.4 FlateDecode, §7.5.4 cross-reference table), so a few KB on the wire can
// inflate to megabytes of text operators.
import zlib from 'node:zlib';

export function buildPdf(pages: string[], title = 'Test PDF'): Buffer {
  const objects: Buffer[] = [];
  const kids = pages.map((_, i) => `${4 + i * 2} 0 R`).join(' ');
  objects.push(Buffer.from(`<< /Type /Catalog /Pages 2 0 R >>`));
  objects.push(Buffer.from(`<< /Type /Pages /Kids [${kids}] /Count ${pages.length} >>`));
  objects.push(Buffer.from(`<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>`));
  pages.forEach((content, i) => {
    const contentRef = 5 + i * 2;
    objects.push(Buffer.from(`<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents ${contentRef} 0 R >>`));
    const data = zlib.deflateSync(Buffer.from(content, 'latin1'), { level: 9 });
    objects.push(Buffer.concat([Buffer.from(`<< /Length ${data.length} /Filter /FlateDecode >>\nstream\n`), data, Buffer.from('\nendstream')]));
  });
  objects.push(Buffer.from(`<< /Title (${title}) >>`));
  const info = objects.length;
  const parts: Buffer[] = [Buffer.from('%PDF-1.4\n')];
  const offsets: number[] = [];
  let at = parts[0].length;
  objects.forEach((body, i) => {
    offsets.push(at);
    const chunk = Buffer.concat([Buffer.from(`${i + 1} 0 obj\n`), body, Buffer.from('\nendobj\n')]);
    parts.push(chunk);
    at += chunk.length;
  });
  const xref = [`xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`, ...offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`)].join('');
  parts.push(Buffer.from(`${xref}trailer\n<< /Size ${objects.length + 1} /Root 1 0 R /Info ${info} 0 R >>\nstartxref\n${at}\n%%EOF\n`));
  return Buffer.concat(parts);
}

/** A page content stream of `n` text-showing operators. */
export function textOps(n: number, word = 'AAAAAAAA'): string {
  return `BT /F1 12 Tf 72 720 Td ${`(${word}) Tj `.repeat(n)}ET`;
}
