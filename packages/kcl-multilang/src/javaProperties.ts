/**
 * A parser with the semantics of `java.util.Properties.load(Reader)`, which is how the Java MultiLangDaemon reads
 * its file: `key=value`, `key: value` or `key value`; `#`/`!` comments; a trailing odd backslash continues the
 * line (leading blanks of the next line dropped); `\uXXXX`, `\t`, `\n`, `\r`, `\f` escapes and `\x` → `x`;
 * leading blanks of a value trimmed, trailing ones kept; quotes kept literally; the last duplicate wins.
 */
export interface ParsedProperties {
  /** Key → value, in file order (a repeated key keeps its first position and its last value). */
  entries: Map<string, string>;
  /** 1-based line of each key's last occurrence. */
  lines: Map<string, number>;
  /** Malformed `\u` escapes, with their line. */
  errors: { line: number; message: string }[];
}

const BLANK = new Set([' ', '\t', '\f']);

function unescapeJava(s: string, line: number, errors: ParsedProperties['errors']): string {
  if (!s.includes('\\')) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const n = s[++i];
    if (n === undefined) break;
    if (n === 'u') {
      const hex = s.slice(i + 1, i + 5);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
        errors.push({ line, message: `malformed \\uxxxx escape "\\u${hex}"` });
        i += hex.length;
        continue;
      }
      out += String.fromCharCode(Number.parseInt(hex, 16));
      i += 4;
    } else out += n === 't' ? '\t' : n === 'n' ? '\n' : n === 'r' ? '\r' : n === 'f' ? '\f' : n;
  }
  return out;
}

/** Parses the text of a `.properties` file (see {@link ParsedProperties}). */
export function parseJavaProperties(text: string): ParsedProperties {
  const entries = new Map<string, string>();
  const lines = new Map<string, number>();
  const errors: ParsedProperties['errors'] = [];
  const natural = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  for (let i = 0; i < natural.length; i++) {
    const startLine = i + 1;
    let raw = natural[i]!;
    let start = 0;
    while (start < raw.length && BLANK.has(raw[start]!)) start++;
    if (start === raw.length) continue;
    if (raw[start] === '#' || raw[start] === '!') continue;
    let logical = raw.slice(start);
    // A line ending in an odd number of backslashes continues on the next one.
    for (;;) {
      const m = /\\+$/.exec(logical);
      if (!m || m[0].length % 2 === 0 || i + 1 >= natural.length) {
        if (m && m[0].length % 2 === 1) logical = logical.slice(0, -1);
        break;
      }
      logical = logical.slice(0, -1);
      raw = natural[++i]!;
      let j = 0;
      while (j < raw.length && BLANK.has(raw[j]!)) j++;
      logical += raw.slice(j);
    }
    let k = 0;
    let keyEnd = -1;
    while (k < logical.length) {
      const c = logical[k]!;
      if (c === '\\') {
        k += 2;
        continue;
      }
      if (c === '=' || c === ':' || BLANK.has(c)) {
        keyEnd = k;
        break;
      }
      k++;
    }
    if (keyEnd === -1) keyEnd = logical.length;
    let v = keyEnd;
    while (v < logical.length && BLANK.has(logical[v]!)) v++;
    if (v < logical.length && (logical[v] === '=' || logical[v] === ':')) {
      v++;
      while (v < logical.length && BLANK.has(logical[v]!)) v++;
    }
    const key = unescapeJava(logical.slice(0, keyEnd), startLine, errors);
    const value = unescapeJava(logical.slice(v), startLine, errors);
    entries.set(key, value);
    lines.set(key, startLine);
  }
  return { entries, lines, errors };
}
