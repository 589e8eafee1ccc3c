import { sniffImage, sniffMarkup } from '../../src/media-sniff';

const bytes = (...parts: Array<string | number[]>): Uint8Array =>
  Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part, 'latin1') : Buffer.from(part))));

describe('sniffImage', () => {
  it.each([
    ['png', bytes([0x89], 'PNG\r\n', [0x1a, 0x0a], 'IHDR')],
    ['jpeg', bytes([0xff, 0xd8, 0xff, 0xe0], 'JFIF')],
    ['gif', bytes('GIF87a', [1, 0, 1, 0])],
    ['gif', bytes('GIF89a', [1, 0, 1, 0])],
    ['webp', bytes('RIFF', [0x24, 0, 0, 0], 'WEBPVP8 ')],
  ])('when the bytes start with the %s signature, names it', (format, payload) => {
    expect(sniffImage(payload)).toBe(format);
  });

  it.each([
    ['a WAVE file (RIFF, but not WebP)', bytes('RIFF', [0x24, 0, 0, 0], 'WAVEfmt ')],
    ['a truncated PNG signature', bytes([0x89], 'PNG')],
    ['no bytes', bytes()],
    ['the PNG signature later in the bytes', bytes(' ', [0x89], 'PNG\r\n', [0x1a, 0x0a])],
    ['text', bytes('GIF89 is not a GIF')],
  ])('when the bytes are %s, names nothing', (_what, payload) => {
    expect(sniffImage(payload)).toBeUndefined();
  });
});

describe('sniffMarkup', () => {
  it.each([
    ['svg', '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'],
    ['svg', '\ufeff \t\r\n<SVG>'],
    ['svg', '<svg'],
    ['svg', '<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN">'],
    ['svg', '<?xml version="1.0"?>\n<!-- drawn by hand -->\n<svg width="1"/>'],
    ['svg', '<?XML version="1.0"?><s:svg xmlns:s="http://www.w3.org/2000/svg"/>'],
    ['html', '<!doctype html><p>hi'],
    ['html', '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN">'],
    ['html', '<html lang="en">'],
    ['html', '  <script>alert(1)</script>'],
    ['html', '<iframe src=x>'],
    ['html', '<a href="x">'],
    ['html', '<!-- comment -->'],
    ['html', '<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"/>'],
  ])('when the text is %s (%j), says so', (markup, text) => {
    expect(sniffMarkup(Buffer.from(text, 'utf8'))).toBe(markup);
  });

  it.each([
    ['plain text mentioning a tag', 'see <svg> and <html>'],
    ['an XML document of another kind', '<?xml version="1.0"?><note>svg html</note>'],
    ['a tag that only starts like one', '<abbr>svg</abbr>'],
    ['an element name that only starts with svg', '<svgx>'],
    ['binary bytes after a <', '<\u0000\u0001'],
    ['CSV', 'epoch,loss\n1,0.5'],
    ['nothing', ''],
  ])('when the bytes are %s, finds no markup', (_what, text) => {
    expect(sniffMarkup(Buffer.from(text, 'utf8'))).toBeUndefined();
  });
});
