/**
 * A byte-preserving reader/editor for the AWS shared credentials file.
 *
 * The parse rules mirror the AWS SDK for JavaScript v3 (`parseIni` in `@smithy/core/config`), so the profile we edit
 * is exactly the profile the SDK (and the aws CLI) reads: lines split on `\n` / `\r\n`; a comment starts at `#` or `;`
 * at the start of a line or after whitespace; `[name]` opens a section (`[profile x]` in the credentials file is
 * section `profile.x`, not profile `x`); `key =` with an empty value opens an indented sub-section.
 *
 * Editing replaces only the value spans of `aws_access_key_id` and `aws_secret_access_key` in the target profile and
 * deletes its `aws_session_token` / `aws_security_token` lines. Every other byte (comments, spacing around `=`, line
 * endings, order, other profiles, a missing final newline, a BOM) is kept as it was.
 */
import { CredentialsFileError } from './errors.js';

/** The keys of a static credential that we edit. */
const ACCESS_KEY_ID = 'aws_access_key_id';
const SECRET_ACCESS_KEY = 'aws_secret_access_key';
const TOKEN_KEYS = ['aws_session_token', 'aws_security_token'] as const;
/** Keys that make a profile something other than a plain static key. */
const NON_STATIC_KEYS = [
  'role_arn',
  'source_profile',
  'credential_source',
  'credential_process',
  'sso_session',
  'sso_start_url',
  'sso_account_id',
  'sso_role_name',
  'web_identity_token_file',
  'login_session',
] as const;

// Same regex and section types as @smithy/core/config parseIni.
const PREFIX_KEY_REGEX = /^([\w-]+)\s(["'])?([\w-@+.%:/]+)\2$/;
const SECTION_TYPES = new Set(['profile', 'sso-session', 'services']);
const COMMENT_REGEX = /(^|\s)[;#]/;
/** Characters an access key id or secret may contain (base64 alphabet); anything else could break the file. */
const SAFE_VALUE = /^[A-Za-z0-9/+=]+$/;

/** One physical line of the file. */
interface Line {
  /** Offset of the first character of the line in the text. */
  start: number;
  /** The line without its terminator. */
  content: string;
  /** `\n`, `\r\n` or `''` (last line without a newline). */
  eol: string;
}

/** A `key = value` entry the SDK would see, with the position of its value in the text. */
export interface IniEntry {
  /** Section key as the SDK names it (`default`, `work`, `profile.x`). */
  section: string;
  /** Key, prefixed with its sub-section (`s3.max_concurrent_requests`) when indented under one. */
  key: string;
  value: string;
  /** 1-based line number. */
  line: number;
  /** Offsets of the value in the whole text (`text.slice(valueStart, valueEnd) === value`). */
  valueStart: number;
  valueEnd: number;
}

/** The parsed view of a credentials file. */
export interface ParsedCredentialsFile {
  /** Section keys in order of first appearance. */
  sections: string[];
  /** Every entry, in file order. */
  entries: IniEntry[];
  /** 1-based line numbers where each section header appears (a section may appear more than once). */
  headers: Map<string, number[]>;
}

/** The static key of one profile as found in the file. */
export interface ProfileKeys {
  profile: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Present when the profile also holds a (probably stale) session token. */
  sessionToken?: string;
  /** 1-based line numbers of the key, secret and any token lines. */
  lines: { accessKeyId: number; secretAccessKey: number; sessionToken: number[] };
}

/** What {@link replaceProfileKeys} changed, for plans and reports. */
export interface CredentialsEdit {
  /** The new file text. */
  text: string;
  /** 1-based line numbers (in the old file) whose value was replaced. */
  replacedLines: number[];
  /** 1-based line numbers (in the old file) that were removed (session tokens). */
  removedLines: number[];
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Decodes a credentials/config file, refusing bytes that are not UTF-8: a lenient decode would turn them into U+FFFD
 * and our rewrite would then silently change them. A BOM is kept (as U+FEFF), so it is written back as it was.
 *
 * @throws {CredentialsFileError} `CREDENTIALS_FILE_INVALID`
 */
export function decodeFileText(bytes: Uint8Array, file: string): string {
  try {
    return STRICT_UTF8.decode(bytes);
  } catch (e) {
    // The decoder does not say where: a lenient round trip first differs from the input at the first bad byte.
    const lenient = Buffer.from(Buffer.from(bytes).toString('utf8'), 'utf8');
    let offset = 0;
    while (offset < bytes.length && lenient[offset] === bytes[offset]) offset++;
    throw new CredentialsFileError(
      'CREDENTIALS_FILE_INVALID',
      `${file} is not valid UTF-8 (byte offset ${offset})`,
      {
        hint: 'awskit rewrites this file as UTF-8 text and will not change bytes it cannot represent. Convert the file to UTF-8 (e.g. `iconv -f latin1 -t utf-8`) and run again; nothing was changed.',
        cause: e,
      },
    );
  }
}

function splitLines(text: string): Line[] {
  const lines: Line[] = [];
  let pos = 0;
  while (pos < text.length) {
    const nl = text.indexOf('\n', pos);
    if (nl === -1) {
      lines.push({ start: pos, content: text.slice(pos), eol: '' });
      break;
    }
    const crlf = nl > pos && text[nl - 1] === '\r';
    lines.push({ start: pos, content: text.slice(pos, crlf ? nl - 1 : nl), eol: crlf ? '\r\n' : '\n' });
    pos = nl + 1;
  }
  return lines;
}

/**
 * Parses a credentials (or config) file the way the AWS SDK for JavaScript v3 does, keeping value positions.
 *
 * @param text - the file contents
 * @throws {CredentialsFileError} `CREDENTIALS_FILE_INVALID` for a `[__proto__]` section (the SDK refuses it too)
 */
export function parseCredentialsFile(text: string): ParsedCredentialsFile {
  const sections: string[] = [];
  const entries: IniEntry[] = [];
  const headers = new Map<string, number[]>();
  let section: string | undefined;
  let subSection: string | undefined;
  splitLines(text).forEach((line, index) => {
    const lineNo = index + 1;
    // The SDK splits on /\r?\n/, so a lone trailing '\r' never reaches here except in odd files; keep parity.
    const uncommented = line.content.split(COMMENT_REGEX)[0] ?? '';
    const trimmed = uncommented.trim();
    if (trimmed.startsWith('[') && trimmed.endsWith(']')) {
      section = undefined;
      subSection = undefined;
      const name = trimmed.substring(1, trimmed.length - 1);
      const m = PREFIX_KEY_REGEX.exec(name);
      if (m) {
        if (SECTION_TYPES.has(m[1]!)) section = `${m[1]}.${m[3]}`;
      } else {
        section = name;
      }
      if (name === '__proto__' || name === 'profile __proto__') {
        throw new CredentialsFileError(
          'CREDENTIALS_FILE_INVALID',
          `Invalid profile name "${name}" on line ${lineNo}`,
          {
            hint: 'Rename that section; the AWS SDK refuses to read this file as it is.',
          },
        );
      }
      if (section !== undefined) {
        if (!headers.has(section)) {
          headers.set(section, []);
          sections.push(section);
        }
        headers.get(section)!.push(lineNo);
      }
      return;
    }
    if (section === undefined) return;
    const eq = trimmed.indexOf('=');
    if (eq === 0 || eq === -1) return;
    const name = trimmed.substring(0, eq).trim();
    const value = trimmed.substring(eq + 1).trim();
    if (value === '') {
      subSection = name;
      return;
    }
    if (subSection !== undefined && line.content.trimStart() === line.content) subSection = undefined;
    // Locate the value inside the raw line: after the first '=' of the uncommented part, trimmed both sides.
    const rawEq = uncommented.indexOf('=');
    const rawValue = uncommented.slice(rawEq + 1);
    const lead = rawValue.length - rawValue.trimStart().length;
    const trail = rawValue.length - rawValue.trimEnd().length;
    const valueStart = line.start + rawEq + 1 + lead;
    const valueEnd = line.start + uncommented.length - trail;
    entries.push({
      section,
      key: subSection !== undefined ? `${subSection}.${name}` : name,
      value,
      line: lineNo,
      valueStart,
      valueEnd,
    });
  });
  return { sections, entries, headers };
}

/** Lists the profile (section) names of a credentials file, in file order. */
export function listProfiles(text: string): string[] {
  return parseCredentialsFile(text).sections;
}

function entriesFor(parsed: ParsedCredentialsFile, profile: string, key: string): IniEntry[] {
  return parsed.entries.filter((e) => e.section === profile && e.key === key);
}

function single(parsed: ParsedCredentialsFile, profile: string, key: string): IniEntry | undefined {
  const found = entriesFor(parsed, profile, key);
  if (found.length > 1) {
    throw new CredentialsFileError(
      'CREDENTIALS_FILE_AMBIGUOUS',
      `Profile "${profile}" sets ${key} more than once (lines ${found.map((e) => e.line).join(', ')})`,
      { hint: 'Remove the duplicate lines so only one value remains, then run the rotation again.' },
    );
  }
  return found[0];
}

/**
 * Describes how a profile gets credentials when it has no static key in the credentials file, or undefined when
 * nothing in the given sections explains it.
 */
export function describeNonStaticProfile(entries: Array<{ key: string }>): string | undefined {
  const keys = new Set(entries.map((e) => e.key));
  if (keys.has('sso_session') || keys.has('sso_start_url')) return 'IAM Identity Center (SSO)';
  if (keys.has('role_arn')) return 'an assumed role';
  if (keys.has('credential_process')) return 'credential_process';
  if (keys.has('web_identity_token_file')) return 'web identity';
  if (keys.has('login_session')) return 'console login';
  if (NON_STATIC_KEYS.some((k) => keys.has(k))) return 'a non-static credential source';
  return undefined;
}

/**
 * Finds the static access key of `profile`.
 *
 * @returns the key, or undefined when the profile has no section in this file
 * @throws {CredentialsFileError} `PROFILE_NOT_STATIC` when the section exists but holds no complete static key,
 *   `CREDENTIALS_FILE_AMBIGUOUS` when a key is set twice
 */
export function readProfileKeys(text: string, profile: string): ProfileKeys | undefined {
  const parsed = parseCredentialsFile(text);
  if (!parsed.headers.has(profile)) return undefined;
  const id = single(parsed, profile, ACCESS_KEY_ID);
  const secret = single(parsed, profile, SECRET_ACCESS_KEY);
  if (!id || !secret) {
    const kind = describeNonStaticProfile(parsed.entries.filter((e) => e.section === profile));
    throw new CredentialsFileError(
      'PROFILE_NOT_STATIC',
      kind
        ? `Profile "${profile}" uses ${kind}, not a static access key`
        : `Profile "${profile}" has no complete static key (${!id ? ACCESS_KEY_ID : SECRET_ACCESS_KEY} is missing)`,
      {
        hint: kind
          ? 'Only IAM user access keys can be rotated; refresh SSO/role credentials with their own tooling.'
          : `Add both ${ACCESS_KEY_ID} and ${SECRET_ACCESS_KEY} to [${profile}] or choose another --profile.`,
      },
    );
  }
  const tokens = TOKEN_KEYS.flatMap((k) => entriesFor(parsed, profile, k));
  const keys: ProfileKeys = {
    profile,
    accessKeyId: id.value,
    secretAccessKey: secret.value,
    lines: { accessKeyId: id.line, secretAccessKey: secret.line, sessionToken: tokens.map((t) => t.line) },
  };
  const lastToken = tokens.at(-1);
  if (lastToken) keys.sessionToken = lastToken.value;
  return keys;
}

/**
 * Returns `text` with the static key of `profile` replaced and its session-token lines removed; every other byte is
 * unchanged. Pure: no I/O.
 *
 * @param text - the current file contents
 * @param profile - the profile (section) to edit
 * @param keys - the new access key id and secret (base64 characters only)
 * @throws {CredentialsFileError} `IAM_ROTATION_PROFILE_NOT_FOUND`, `PROFILE_NOT_STATIC`, `CREDENTIALS_FILE_AMBIGUOUS`,
 *   `INVALID_KEY_VALUE`
 * @example
 * const { text: next } = replaceProfileKeys(text, 'default', { accessKeyId: 'AKIA…', secretAccessKey: '…' });
 */
export function replaceProfileKeys(
  text: string,
  profile: string,
  keys: { accessKeyId: string; secretAccessKey: string },
): CredentialsEdit {
  for (const [name, value] of [
    ['access key id', keys.accessKeyId],
    ['secret access key', keys.secretAccessKey],
  ] as const) {
    if (!SAFE_VALUE.test(value)) {
      throw new CredentialsFileError(
        'INVALID_KEY_VALUE',
        `The new ${name} contains characters that are unsafe in an ini file`,
        {
          hint: 'This is unexpected for an AWS key; nothing was written.',
        },
      );
    }
  }
  const found = readProfileKeys(text, profile);
  if (!found) {
    throw new CredentialsFileError(
      'IAM_ROTATION_PROFILE_NOT_FOUND',
      `Profile "${profile}" is not in the credentials file`,
      {
        hint: 'Check --profile / AWS_PROFILE and AWS_SHARED_CREDENTIALS_FILE.',
      },
    );
  }
  const parsed = parseCredentialsFile(text);
  const id = entriesFor(parsed, profile, ACCESS_KEY_ID)[0]!;
  const secret = entriesFor(parsed, profile, SECRET_ACCESS_KEY)[0]!;
  const removed = new Set(TOKEN_KEYS.flatMap((k) => entriesFor(parsed, profile, k)).map((e) => e.line));

  // Rebuild line by line: replaced lines get a new value span, removed lines vanish with their terminator.
  const lines = splitLines(text);
  const kept: Array<{ content: string; eol: string }> = [];
  lines.forEach((line, index) => {
    const lineNo = index + 1;
    if (removed.has(lineNo)) return;
    let content = line.content;
    for (const [entry, value] of [
      [id, keys.accessKeyId],
      [secret, keys.secretAccessKey],
    ] as const) {
      if (entry.line === lineNo) {
        content =
          content.slice(0, entry.valueStart - line.start) +
          value +
          content.slice(entry.valueEnd - line.start);
      }
    }
    kept.push({ content, eol: line.eol });
  });
  // The file had no final newline and its last line was removed: keep "no final newline" rather than gaining one.
  const last = kept.at(-1);
  if (lines.at(-1)?.eol === '' && removed.has(lines.length) && last) last.eol = '';
  const out = kept.map((l) => l.content + l.eol).join('');
  assertOnlyKeysChanged(text, out, profile, keys);
  return {
    text: out,
    replacedLines: [id.line, secret.line],
    removedLines: [...removed].sort((a, b) => a - b),
  };
}

/** What the SDK would read: section → key → value (later lines win, as in the SDK). */
function effectiveView(text: string): Map<string, Map<string, string>> {
  const view = new Map<string, Map<string, string>>();
  for (const e of parseCredentialsFile(text).entries) {
    if (!view.has(e.section)) view.set(e.section, new Map());
    view.get(e.section)!.set(e.key, e.value);
  }
  return view;
}

/**
 * Re-parses the edited text and checks that the SDK would read exactly the old file with only the target's key,
 * secret and tokens changed. Removing a token line can change how the indented lines after it are read (an
 * indented line after `s3 =` belongs to that sub-section unless a non-indented key line came in between), so this
 * is checked rather than assumed.
 */
function assertOnlyKeysChanged(
  before: string,
  after: string,
  profile: string,
  keys: { accessKeyId: string; secretAccessKey: string },
): void {
  const expected = effectiveView(before);
  const target = expected.get(profile) ?? new Map<string, string>();
  for (const k of TOKEN_KEYS) target.delete(k);
  target.set(ACCESS_KEY_ID, keys.accessKeyId);
  target.set(SECRET_ACCESS_KEY, keys.secretAccessKey);
  const actual = effectiveView(after);
  const same =
    expected.size === actual.size &&
    [...expected].every(([section, entries]) => {
      const other = actual.get(section);
      return (
        other !== undefined &&
        other.size === entries.size &&
        [...entries].every(([k, v]) => other.get(k) === v)
      );
    });
  if (!same) {
    throw new CredentialsFileError(
      'CREDENTIALS_FILE_AMBIGUOUS',
      `Editing profile "${profile}" in place would change how other lines of the file are read (an indented line after a removed session token would join a sub-section)`,
      {
        hint: `Remove the aws_session_token line of [${profile}] (or un-indent the lines after it) and run again.`,
      },
    );
  }
}

/**
 * The profiles (sections) whose `aws_access_key_id` is `accessKeyId`, in file order. Used to keep profiles that
 * share one key in step: retiring the key would otherwise break the profiles left behind.
 */
export function profilesWithKey(text: string, accessKeyId: string): string[] {
  const parsed = parseCredentialsFile(text);
  return parsed.sections.filter((section) => {
    const ids = entriesFor(parsed, section, ACCESS_KEY_ID);
    return ids.at(-1)?.value === accessKeyId;
  });
}

/**
 * {@link replaceProfileKeys} for several profiles of one file (each edit is self-checked). Line numbers in the
 * result refer to the original text.
 *
 * @throws {CredentialsFileError} as {@link replaceProfileKeys}, for the first profile that cannot be edited
 */
export function replaceKeysInProfiles(
  text: string,
  profiles: string[],
  keys: { accessKeyId: string; secretAccessKey: string },
): CredentialsEdit {
  let out = text;
  const replaced = new Set<number>();
  const removed = new Set<number>();
  for (const profile of profiles) {
    const single = replaceProfileKeys(text, profile, keys);
    for (const l of single.replacedLines) replaced.add(l);
    for (const l of single.removedLines) removed.add(l);
    out = replaceProfileKeys(out, profile, keys).text;
  }
  const sort = (s: Set<number>) => [...s].sort((a, b) => a - b);
  return { text: out, replacedLines: sort(replaced), removedLines: sort(removed) };
}
