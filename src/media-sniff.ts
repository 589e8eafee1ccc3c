/*
 * What a byte payload is, judged by its content alone (never by a file name or a declared type), after the WHATWG
 * MIME Sniffing Standard: the image signatures of its "image type pattern matching" and the markup patterns of its
 * "rules for identifying an unknown MIME type". Pure: no I/O.
 */

/** Image formats recognised by their signature. */
export type SniffedImage = 'png' | 'jpeg' | 'gif' | 'webp';

/** Markup a browser may run scripts in. */
export type ActiveMarkup = 'svg' | 'html';

/** A signature byte that matches any byte (WebP's RIFF chunk size). */
export const ANY = -1;

/** The image format whose signature `bytes` start with, if any. */
export function sniffImage(bytes: Uint8Array): SniffedImage | undefined {
  return IMAGE_SIGNATURES.find(([, signature]) => hasSignature(bytes, signature))?.[0];
}

/**
 * SVG or HTML that a browser would render, after an optional UTF-8 byte order mark and whitespace: `<svg`, an XML
 * document with an `svg` (or `html`) element, or any of the tags that make a browser take a payload for HTML;
 * case-insensitive. Undefined for anything else.
 */
export function sniffMarkup(bytes: Uint8Array): ActiveMarkup | undefined {
  let start = hasSignature(bytes, UTF8_BOM) ? UTF8_BOM.length : 0;
  while (start < bytes.length && isWhitespace(bytes[start])) {
    start += 1;
  }
  if (bytes[start] !== 0x3c) {
    return undefined;
  }
  const head = latin1(bytes.subarray(start, start + 64));
  if (SVG_START.test(head)) {
    return 'svg';
  }
  if (HTML_START.test(head)) {
    return 'html';
  }
  if (!head.startsWith('<?xml')) {
    return undefined;
  }
  const document = latin1(bytes);
  return XML_SVG.test(document) ? 'svg' : XML_HTML.test(document) ? 'html' : undefined;
}

/** True when `bytes` start with `signature`, whose `ANY` bytes match any byte. */
export function hasSignature(bytes: Uint8Array, signature: ArrayLike<number>): boolean {
  if (bytes.length < signature.length) {
    return false;
  }
  for (let i = 0; i < signature.length; i += 1) {
    if (signature[i] !== ANY && signature[i] !== bytes[i]) {
      return false;
    }
  }
  return true;
}

const ascii = (text: string): number[] => [...text].map((char) => char.charCodeAt(0));

const IMAGE_SIGNATURES: ReadonlyArray<readonly [SniffedImage, readonly number[]]> = [
  ['png', [0x89, ...ascii('PNG'), 0x0d, 0x0a, 0x1a, 0x0a]],
  ['jpeg', [0xff, 0xd8, 0xff]],
  ['gif', ascii('GIF87a')],
  ['gif', ascii('GIF89a')],
  ['webp', [...ascii('RIFF'), ANY, ANY, ANY, ANY, ...ascii('WEBPVP')]],
];

const UTF8_BOM = [0xef, 0xbb, 0xbf];
/** Tags that make a browser sniff HTML (WHATWG), each followed by whitespace, `>`, `/` or the end. */
const HTML_START =
  /^<(!doctype\s+html|html|head|script|iframe|h1|div|font|table|a|style|title|b|body|br|p|!--)([\s>/]|$)/;
const SVG_START = /^<(svg|!doctype\s+svg)([\s>/:]|$)/;
/** In an XML document, the elements that render as SVG or (XHTML) as HTML, wherever they come after the prolog. */
const XML_SVG = /<(svg|[\w.-]+:svg|!doctype\s+svg)[\s>/]/;
const XML_HTML = /<(html|[\w.-]+:html|!doctype\s+html)[\s>/]/;

/** Lower-cased Latin-1: one character per byte, so the patterns see the bytes as they are, whatever the encoding. */
function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1').toLowerCase();
}

/** The WHATWG's whitespace bytes: tab, line feed, form feed, carriage return, space. */
function isWhitespace(byte: number | undefined): boolean {
  return byte === 0x09 || byte === 0x0a || byte === 0x0c || byte === 0x0d || byte === 0x20;
}
