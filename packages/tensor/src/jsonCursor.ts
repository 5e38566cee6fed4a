/**
 * @file A cursor over untrusted JSON text: the tokens of RFC 8259 (strings, numbers, literals,
 * punctuation) read one at a time, so that a reader that knows the shape of what it expects (a
 * safetensors header, a checkpoint's tree) can build only that shape and refuse anything else at
 * the first character that does not fit. `JSON.parse` and generic parsers build the whole tree
 * first and validate it afterwards: a hostile 70 MB header of `[{},{},…]` then costs gigabytes
 * before the first check runs.
 *
 * Every failure is a `JsonFailure` (a message and the UTF-16 offset) thrown to the reader that
 * owns the cursor, which catches it; nothing else is thrown. Work is linear in the text read, and
 * nothing is allocated beyond the tokens returned (escaped strings are joined in chunks, so a
 * string of a million escapes is not a million-node rope).
 *
 * Internal to the packages of this repository (`@rewind/tensor/internal/json`).
 */

/**
 * Why the text was refused, and where: thrown by a cursor, caught by its reader. `form` marks
 * valid JSON refused only for how it is written (whitespace under `strictSpacing`, or what the
 * reader itself flags: a duplicate key, an unusual escape).
 */
export class JsonFailure extends Error {
  constructor(
    message: string,
    readonly offset: number,
    readonly form = false,
  ) {
    super(message);
  }
}

/**
 * A key or name as messages show it: quoted, and cut so a hostile megabyte-long name stays readable.
 * @example quoteKey("dtype") // '"dtype"'
 */
export const quoteKey = (k: string): string => JSON.stringify(k.length > 60 ? `${k.slice(0, 57)}...` : k);

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
/** Code units of an escaped string turned into a string at a time (a string per escape would cost ~30× the text). */
const CHUNK = 4096;
let scratchBuffer: Uint16Array | undefined;
/** The scratch buffer of escaped strings, allocated once (strings are read one at a time). */
const scratch = (): Uint16Array => (scratchBuffer ??= new Uint16Array(CHUNK));
/** The code unit each one-character escape stands for, by the escape's character code. */
const ESCAPE_UNITS: ReadonlyMap<number, number> = new Map(
  [
    ['"', '"'],
    ["\\", "\\"],
    ["/", "/"],
    ["b", "\b"],
    ["f", "\f"],
    ["n", "\n"],
    ["r", "\r"],
    ["t", "\t"],
  ].map(([e, u]) => [e!.charCodeAt(0), u!.charCodeAt(0)]),
);
/** The value of a hex digit's character code, or -1. */
const hexDigit = (c: number): number =>
  c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1;
/** How much of a value messages quote. */
const SNIPPET = 60;

/**
 * A read position in JSON text with the token readers. Methods skip leading whitespace unless
 * the cursor is `strictSpacing` (text exactly as `JSON.stringify` writes it, where whitespace
 * outside strings is an error).
 * @example
 * const c = new JsonCursor('{"a":[1,2]}');
 * c.expect("{", "an object"); c.string(); c.expect(":", "':'"); c.expect("[", "an array"); c.number() // 1
 */
export class JsonCursor {
  /** The offset of the next character to read. */
  at = 0;

  constructor(
    readonly text: string,
    readonly strictSpacing = false,
  ) {}

  /** Throws a `JsonFailure` at `offset` (default: the current position). */
  fail(message: string, offset: number = this.at, form = false): never {
    throw new JsonFailure(message, offset, form);
  }

  /** The character at `i`, described for messages (`"x" (U+0078)` or `end of input`). */
  describeChar(i: number = this.at): string {
    const { text } = this;
    return i >= text.length
      ? "end of input"
      : `${JSON.stringify(text[i])} (U+${text.charCodeAt(i).toString(16).padStart(4, "0")})`;
  }

  /** Skips whitespace (or, when spacing is strict, refuses it). */
  space(): void {
    const { text } = this;
    for (;;) {
      const c = text.charCodeAt(this.at);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return;
      if (this.strictSpacing) this.fail("whitespace outside a string", this.at, true);
      this.at++;
    }
  }

  /** The next non-space character (not consumed), or "" at the end. */
  peek(): string {
    this.space();
    return this.text[this.at] ?? "";
  }

  /** Consumes `ch` (after whitespace) or fails with "expected `what`". */
  expect(ch: string, what: string): void {
    this.space();
    if (this.text[this.at] !== ch) this.fail(`expected ${what} but found ${this.describeChar()}`);
    this.at++;
  }

  /** Consumes `ch` if it comes next (after whitespace); says whether it did. */
  take(ch: string): boolean {
    this.space();
    if (this.text[this.at] !== ch) return false;
    this.at++;
    return true;
  }

  /** Whether only whitespace is left. */
  atEnd(): boolean {
    this.space();
    return this.at >= this.text.length;
  }

  /**
   * If one of `tokens` (source text such as `"kind"`, quotes included) comes next, consumes it and
   * returns its index; otherwise -1. Matching known keys and values this way allocates nothing.
   */
  known(tokens: readonly string[]): number {
    this.space();
    for (let i = 0; i < tokens.length; i++) {
      if (this.text.startsWith(tokens[i]!, this.at)) {
        this.at += tokens[i]!.length;
        return i;
      }
    }
    return -1;
  }

  /**
   * Reads a string token that must be spelled as `JSON.stringify` spells its value (only the
   * escapes it writes, no raw lone surrogates); otherwise fails with `form` set. A string without
   * escapes, the usual case, is read with one slice and no other allocation.
   */
  canonicalString(): string {
    const plain = this.plainString(true);
    if (plain !== undefined) return plain;
    // An escape, a control character or a surrogate: read it the general way and compare.
    const start = this.at;
    const value = this.string();
    if (JSON.stringify(value) !== this.text.slice(start, this.at))
      this.fail("a string escaped otherwise than JSON.stringify escapes it", start, true);
    return value;
  }

  /** Reads a string token and returns its value. */
  string(): string {
    // The usual case, no escapes: one slice of the text.
    const plain = this.plainString(false);
    if (plain !== undefined) return plain;
    if (this.plainEnd < this.text.length) return this.escapedString(this.at, this.plainEnd);
    return this.fail("unterminated string", this.at);
  }

  /** Where `plainString` stopped when it returned undefined. */
  private plainEnd = 0;

  /**
   * Reads a string token (after whitespace; failing if none opens here) if it is plain: returns
   * its value, one slice of the text, and moves past it. Otherwise returns undefined with the
   * cursor left at the opening quote and `plainEnd` set to the first character that needs the
   * general path (an escape, a control character, or with `stopAtSurrogates` a surrogate), or to
   * the text's length if the string is unterminated.
   */
  private plainString(stopAtSurrogates: boolean): string | undefined {
    this.space();
    const { text } = this;
    const start = this.at;
    if (text[start] !== '"') this.fail(`expected a string but found ${this.describeChar()}`);
    let i = start + 1;
    for (; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        this.at = i + 1;
        return text.slice(start + 1, i);
      }
      if (c === 0x5c || c < 0x20 || (stopAtSurrogates && c >= 0xd800 && c <= 0xdfff)) break;
    }
    this.plainEnd = i;
    return undefined;
  }

  /**
   * Reads an object key and the ':' after it. Fails with `duplicate key …` at the key's offset
   * if `seen` has it; `vet`, if given, runs on the key after that check and before the ':'.
   * @example c.objectKey(out) // "a", with `"a": …` next in the text
   */
  objectKey(seen: { has(k: string): boolean }, vet?: (k: string) => void): string {
    this.space();
    const keyAt = this.at;
    const k = this.string();
    if (seen.has(k)) this.fail(`duplicate key ${quoteKey(k)}`, keyAt);
    vet?.(k);
    this.expect(":", "':' after an object key");
    return k;
  }

  /**
   * The rest of a string with escapes, from `i` (its first escape or control character). Code
   * units go into a fixed scratch buffer that becomes one string per CHUNK units, so a string of
   * a million escapes costs its value and not a string per escape.
   */
  private escapedString(start: number, from: number): string {
    const { text } = this;
    const parts = [text.slice(start + 1, from)];
    const buf = scratch();
    let n = 0;
    for (let i = from; ;) {
      if (n === CHUNK) {
        parts.push(String.fromCharCode.apply(null, buf as unknown as number[]));
        n = 0;
      }
      if (i >= text.length) this.fail("unterminated string", start);
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        parts.push(String.fromCharCode.apply(null, buf.subarray(0, n) as unknown as number[]));
        this.at = i + 1;
        return parts.join("");
      }
      if (c < 0x20) this.fail(`unescaped control character U+${c.toString(16).padStart(4, "0")} in a string`, i);
      if (c !== 0x5c) {
        buf[n++] = c;
        i++;
        continue;
      }
      const esc = text.charCodeAt(i + 1);
      if (esc === 0x75) {
        // \uXXXX: four hex digits, read without a substring.
        let unit = 0;
        for (let k = i + 2; k < i + 6; k++) {
          const d = hexDigit(text.charCodeAt(k));
          if (d < 0) this.fail("invalid \\u escape (needs four hex digits)", i);
          unit = unit * 16 + d;
        }
        buf[n++] = unit;
        i += 6;
      } else {
        const unit = ESCAPE_UNITS.get(esc);
        if (unit === undefined) this.fail(`invalid escape \\${text[i + 1] ?? ""} in a string`, i);
        buf[n++] = unit!;
        i += 2;
      }
    }
  }

  /** Reads a number token (RFC 8259 syntax; `1e400` reads as Infinity, for the caller to refuse). */
  number(): number {
    this.space();
    NUMBER.lastIndex = this.at;
    const m = NUMBER.exec(this.text);
    if (m === null) return this.fail(`unexpected ${this.describeChar()}`);
    this.at += m[0].length;
    return Number(m[0]);
  }

  /** Reads `true`, `false` or `null`. */
  literal(): boolean | null {
    this.space();
    for (const [word, value] of LITERALS) {
      if (this.text.startsWith(word, this.at)) {
        this.at += word.length;
        return value;
      }
    }
    return this.fail(`unexpected ${this.describeChar()}`);
  }

  /**
   * Skips one value of any kind without building it, checking its syntax. The value sits inside
   * `outer` levels of arrays and objects, and nesting past `maxDepth` levels in all is refused
   * (with the message the generic parser gives). Allocates nothing but its stack of open brackets.
   */
  skipValue(maxDepth: number, outer = 0): void {
    // An explicit stack (true: an array) instead of recursion, so no hostile nesting can
    // overflow the call stack.
    const open: boolean[] = [];
    for (;;) {
      const c = this.peek();
      if (c === "[" || c === "{") {
        if (outer + open.length >= maxDepth) this.fail(`nesting deeper than ${maxDepth} levels`);
        this.at++;
        if (!this.take(c === "[" ? "]" : "}")) {
          open.push(c === "[");
          if (c === "{") this.skipKey();
          continue;
        }
      } else if (c === '"') this.skipString();
      else if (c === "t" || c === "f" || c === "n") this.literal();
      else this.number();
      // After a value: close brackets, or move to the next element.
      for (;;) {
        if (open.length === 0) return;
        const isArray = open[open.length - 1]!;
        if (this.take(isArray ? "]" : "}")) {
          open.pop();
          continue;
        }
        this.expect(",", isArray ? "',' or ']' in an array" : "',' or '}' in an object");
        if (!isArray) this.skipKey();
        break;
      }
    }
  }

  private skipKey(): void {
    this.skipString();
    this.expect(":", "':' after an object key");
  }

  /** Checks a string token's syntax without building its value. */
  private skipString(): void {
    this.space();
    const { text } = this;
    const start = this.at;
    if (text[start] !== '"') this.fail(`expected a string but found ${this.describeChar()}`);
    for (let i = start + 1; ;) {
      if (i >= text.length) this.fail("unterminated string", start);
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        this.at = i + 1;
        return;
      }
      if (c < 0x20) this.fail(`unescaped control character U+${c.toString(16).padStart(4, "0")} in a string`, i);
      if (c !== 0x5c) i++;
      else if (text.charCodeAt(i + 1) === 0x75) {
        for (let k = i + 2; k < i + 6; k++)
          if (hexDigit(text.charCodeAt(k)) < 0) this.fail("invalid \\u escape (needs four hex digits)", i);
        i += 6;
      } else if (ESCAPE_UNITS.has(text.charCodeAt(i + 1))) i += 2;
      else this.fail(`invalid escape \\${text[i + 1] ?? ""} in a string`, i);
    }
  }

  /**
   * The text of the value starting at `start` for a message: `an object` for an object, else its
   * source text cut to about 60 characters (found by a bounded scan, not by parsing it).
   */
  snippet(start: number): string {
    const { text } = this;
    let i = start;
    while (i < text.length && " \t\r\n".includes(text[i]!)) i++;
    if (text[i] === "{") return "an object";
    const from = i;
    const limit = Math.min(text.length, from + SNIPPET);
    let depth = 0;
    let inString = false;
    let complete = false;
    for (; i < limit && !complete; i++) {
      const ch = text[i]!;
      if (inString) {
        if (ch === "\\") i++;
        else if (ch === '"') {
          inString = false;
          complete = depth === 0;
        }
      } else if (ch === '"') inString = true;
      else if (ch === "[" || ch === "{") depth++;
      else if (depth === 0 && ",:]} \t\r\n".includes(ch)) break;
      else if (ch === "]" || ch === "}") complete = --depth === 0;
    }
    const cut = text.slice(from, i);
    if (cut === "") return this.describeChar(from);
    return !complete && i === limit && limit < text.length ? `${cut.slice(0, SNIPPET - 3)}...` : cut;
  }
}

const LITERALS: ReadonlyArray<readonly [string, boolean | null]> = [
  ["true", true],
  ["false", false],
  ["null", null],
];
