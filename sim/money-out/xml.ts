// A small XML writer: elements, attributes and text, every value escaped. Enough for camt.053.

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

/** Escapes text and attribute values; characters XML 1.0 cannot carry at all are dropped. */
export function escapeXml(value: string): string {
  return value
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/[&<>"']/g, (char) => ESCAPES[char] as string);
}

export class XmlWriter {
  readonly #parts: string[] = ['<?xml version="1.0" encoding="UTF-8"?>\n'];
  readonly #open: string[] = [];

  open(name: string, attributes: Readonly<Record<string, string>> = {}): this {
    this.#parts.push(`${'  '.repeat(this.#open.length)}<${name}${attributeText(attributes)}>\n`);
    this.#open.push(name);
    return this;
  }

  close(): this {
    const name = this.#open.pop();
    if (name === undefined) throw new Error('XmlWriter: nothing to close');
    this.#parts.push(`${'  '.repeat(this.#open.length)}</${name}>\n`);
    return this;
  }

  /** <name attributes>text</name> */
  leaf(name: string, text: string, attributes: Readonly<Record<string, string>> = {}): this {
    this.#parts.push(
      `${'  '.repeat(this.#open.length)}<${name}${attributeText(attributes)}>${escapeXml(text)}</${name}>\n`,
    );
    return this;
  }

  /** Opens each name in turn, writes the text in the innermost, closes them all: path('Sts','Cd','BOOK'). */
  path(...namesAndText: readonly string[]): this {
    const names = namesAndText.slice(0, -1);
    for (const name of names.slice(0, -1)) this.open(name);
    this.leaf(names[names.length - 1] as string, namesAndText[namesAndText.length - 1] as string);
    for (let index = 0; index < names.length - 1; index += 1) this.close();
    return this;
  }

  toString(): string {
    if (this.#open.length > 0) throw new Error(`XmlWriter: ${this.#open.join('>')} left open`);
    return this.#parts.join('');
  }
}

function attributeText(attributes: Readonly<Record<string, string>>): string {
  let text = '';
  for (const [name, value] of Object.entries(attributes)) text += ` ${name}="${escapeXml(value)}"`;
  return text;
}
