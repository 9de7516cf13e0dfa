// Bytes -> string with the page's real charset: BOM, then the Content-Type header, then a <meta>
// declaration in the first bytes, then UTF-8 if the bytes are valid UTF-8, else windows-1252.
import { TextDecoder } from 'node:util';

function decoderFor(label: string | undefined | null): TextDecoder | null {
  if (!label) return null;
  try {
    return new TextDecoder(label.trim().replace(/^["']|["']$/g, '').toLowerCase());
  } catch {
    return null; // unknown label
  }
}

export function charsetFromContentType(contentType: string): string | null {
  const m = /charset\s*=\s*["']?([^"';\s]+)/i.exec(contentType);
  return m ? m[1] : null;
}

function bomCharset(b: Uint8Array): { label: string; skip: number } | null {
  if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) return { label: 'utf-8', skip: 3 };
  if (b[0] === 0xfe && b[1] === 0xff) return { label: 'utf-16be', skip: 2 };
  if (b[0] === 0xff && b[1] === 0xfe) return { label: 'utf-16le', skip: 2 };
  return null;
}

/** `<meta charset>` or `<meta http-equiv="content-type" content="...charset=...">` near the top. */
export function metaCharset(b: Uint8Array): string | null {
  const head = Buffer.from(b.buffer, b.byteOffset, Math.min(b.byteLength, 4096)).toString('latin1');
  const direct = /<meta[^>]+charset\s*=\s*["']?\s*([\w:.-]+)/i.exec(head);
  return direct ? direct[1] : null;
}

export function decodeBody(bytes: Uint8Array, contentType: string): string {
  const bom = bomCharset(bytes);
  if (bom) return new TextDecoder(bom.label).decode(bytes.subarray(bom.skip));
  let dec = decoderFor(charsetFromContentType(contentType));
  const isHtml = /html|xml/i.test(contentType) || contentType === '';
  if (!dec && isHtml) {
    dec = decoderFor(metaCharset(bytes));
    // A page that could declare UTF-16 in a <meta> is ASCII-compatible: the spec reads it as UTF-8.
    if (dec?.encoding.startsWith('utf-16')) dec = new TextDecoder('utf-8');
  }
  if (dec) return dec.decode(bytes);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return new TextDecoder('windows-1252').decode(bytes);
  }
}
