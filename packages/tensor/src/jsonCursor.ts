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
export class JsonFailure {
  constructor(
    readonly message: string,
    readonly offset: number,
    readonly form = false,
  ) {}
}

/**
 * A key or name as messages show it: quoted, and cut so a hostile megabyte-long name stays readable.
 * @example quoteKey("dtype") // '"dtype"'
 */
export const quoteKey = (k: string): string => JSON.stringify(k.length > 60 ? `${k.slice(0, 57)}...` : k);

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const HEX4 = /^[0-9a-fA-F]{4}$/;
const ESCAPES: Readonly<Record<string, string>> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };
/** Escaped pieces joined into one flat string this often (a rope of single characters costs ~30× the text). */
const CHUNK = 1024;
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
    return i >= text.length ? "end of input" : `${JSON.stringify(text[i])} (U+${text.charCodeAt(i).toString(16).padStart(4, "0")})`;
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

  /** Reads a string token and returns its value. */
  string(): string {
    this.space();
    const { text } = this;
    const start = this.at;
    if (text[start] !== '"') this.fail(`expected a string but found ${this.describeChar()}`);
    let i = start + 1;
    let done = "";
    const pieces: string[] = [];
    let chunk = i;
    for (;;) {
      if (i >= text.length) this.fail("unterminated string", start);
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        pieces.push(text.slice(chunk, i));
        this.at = i + 1;
        return pieces.length === 1 && done === "" ? pieces[0]! : done + pieces.join("");
      }
      if (c < 0x20) this.fail(`unescaped control character U+${c.toString(16).padStart(4, "0")} in a string`, i);
      if (c !== 0x5c) {
        i++;
        continue;
      }
      if (i > chunk) pieces.push(text.slice(chunk, i));
      const esc = text[i + 1];
      if (esc === "u") {
        const hex = text.slice(i + 2, i + 6);
        if (!HEX4.test(hex)) this.fail("invalid \\u escape (needs four hex digits)", i);
        pieces.push(String.fromCharCode(parseInt(hex, 16)));
        i += 6;
      } else if (esc !== undefined && Object.prototype.hasOwnProperty.call(ESCAPES, esc)) {
        pieces.push(ESCAPES[esc]!);
        i += 2;
      } else {
        this.fail(`invalid escape \\${esc ?? ""} in a string`, i);
      }
      chunk = i;
      if (pieces.length >= CHUNK) {
        done += pieces.join("");
        pieces.length = 0;
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
    for (let i = start + 1; ; ) {
      if (i >= text.length) this.fail("unterminated string", start);
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        this.at = i + 1;
        return;
      }
      if (c < 0x20) this.fail(`unescaped control character U+${c.toString(16).padStart(4, "0")} in a string`, i);
      if (c !== 0x5c) i++;
      else if (text[i + 1] === "u") {
        if (!HEX4.test(text.slice(i + 2, i + 6))) this.fail("invalid \\u escape (needs four hex digits)", i);
        i += 6;
      } else if (Object.prototype.hasOwnProperty.call(ESCAPES, text[i + 1] ?? "")) i += 2;
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
