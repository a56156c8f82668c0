// A strict JSON parser for the files users hand us (traces, configs, baselines). JSON.parse
// accepts what we must refuse: a key given twice (the last silently wins, so a reviewer reads
// one value and the checker runs another), -0 (a "non-negative integer" that prints as 0), and
// nesting as deep as the stack allows. Here each of these is an error naming the place in the
// file. Numbers are JSON numbers (interface.md: integers up to 2^53 - 1 are validated later);
// strings stay strings, so the decimal-string pfns of interface.md Revision 2 reach the validator
// as written.

/** Arrays and objects nest at most this deep: a trace needs 5 levels, meta a few more. */
export const MAX_JSON_DEPTH = 32;

export class JsonError extends Error {
  override name = "JsonError";
}

const WS = new Uint8Array(128);
for (const c of [0x20, 0x09, 0x0a, 0x0d]) WS[c] = 1;

const ESCAPES: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

/** Parses `text` as one JSON value; a JsonError says what is wrong and where (line:column). */
export function parseStrictJson(text: string, maxDepth = MAX_JSON_DEPTH): unknown {
  let i = 0;
  // Short strings (keys, action names, returns) are kept once: a long trace repeats them millions
  // of times, and each slice would otherwise hold the whole text alive.
  const interned = new Map<string, string>();

  const fail = (what: string, at = i): never => {
    let line = 1;
    let col = 1;
    for (let j = 0; j < at && j < text.length; j++) {
      if (text.charCodeAt(j) === 0x0a) {
        line++;
        col = 1;
      } else col++;
    }
    throw new JsonError(`${what} at line ${line} column ${col}`);
  };
  const skip = (): void => {
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c >= 128 || WS[c] === 0) break;
      i++;
    }
  };
  const expect = (ch: string): void => {
    if (text[i] !== ch) fail(i >= text.length ? `unexpected end of input, expected '${ch}'` : `expected '${ch}'`);
    i++;
  };

  const string = (): string => {
    const start = ++i; // past the opening quote
    let out = "";
    let run = start;
    for (;;) {
      if (i >= text.length) fail("unterminated string", start - 1);
      const c = text.charCodeAt(i);
      if (c === 0x22) break;
      if (c < 0x20) fail("control character in a string");
      if (c === 0x5c) {
        out += text.slice(run, i);
        const e = text[i + 1];
        if (e === "u") {
          const hex = text.slice(i + 2, i + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail("bad \\u escape");
          out += String.fromCharCode(parseInt(hex, 16));
          i += 6;
        } else {
          const r = e === undefined ? undefined : ESCAPES[e];
          if (r === undefined) fail("bad escape in a string");
          out += r;
          i += 2;
        }
        run = i;
      } else i++;
    }
    out += text.slice(run, i);
    i++; // the closing quote
    if (out.length > 32) return out;
    const known = interned.get(out);
    if (known !== undefined) return known;
    if (interned.size < 1 << 16) interned.set(out, out);
    return out;
  };

  const number = (): number => {
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (!m || m[0] === "-") fail("invalid number");
    const v = Number(m![0]);
    if (Object.is(v, -0)) fail("-0 is not a valid number here");
    i += m![0].length;
    return v;
  };

  const literal = <T>(word: string, v: T): T => {
    if (!text.startsWith(word, i)) fail("unexpected character");
    i += word.length;
    return v;
  };

  // Iterative over containers: a stack of open arrays and objects, bounded by maxDepth.
  type Open = { kind: "a"; v: unknown[] } | { kind: "o"; v: Record<string, unknown>; key: string };
  const stack: Open[] = [];
  let result: unknown;
  for (;;) {
    skip();
    if (i >= text.length) fail("unexpected end of input");
    let value: unknown;
    let opened = false;
    const c = text[i];
    if (c === "{" || c === "[") {
      if (stack.length >= maxDepth) fail(`nested deeper than ${maxDepth} levels`);
      i++;
      skip();
      const empty = text[i] === (c === "{" ? "}" : "]");
      if (c === "[") {
        const arr: unknown[] = [];
        if (empty) {
          i++;
          value = arr;
        } else {
          stack.push({ kind: "a", v: arr });
          opened = true;
        }
      } else {
        const obj: Record<string, unknown> = {};
        if (empty) {
          i++;
          value = obj;
        } else {
          if (text[i] !== '"') fail("expected a string key");
          const key = string();
          skip();
          expect(":");
          stack.push({ kind: "o", v: obj, key });
          opened = true;
        }
      }
    } else if (c === '"') value = string();
    else if (c === "-" || (c >= "0" && c <= "9")) value = number();
    else if (c === "t") value = literal("true", true);
    else if (c === "f") value = literal("false", false);
    else if (c === "n") value = literal("null", null);
    else fail("unexpected character");
    if (opened) continue;

    // Store the value, then close every container that ends here.
    for (;;) {
      const top = stack[stack.length - 1];
      if (top === undefined) {
        result = value;
        skip();
        if (i < text.length) fail("unexpected text after the JSON value");
        return result;
      }
      if (top.kind === "a") top.v.push(value);
      // defineProperty, not assignment: a key "__proto__" stays a key (and is then unknown).
      else Object.defineProperty(top.v, top.key, { value, enumerable: true, writable: true, configurable: true });
      skip();
      const sep = text[i];
      if (sep === ",") {
        i++;
        skip();
        if (top.kind === "o") {
          if (text[i] !== '"') fail("expected a string key");
          const keyAt = i;
          const key = string();
          if (Object.prototype.hasOwnProperty.call(top.v, key)) fail(`duplicate key ${JSON.stringify(key)}`, keyAt);
          skip();
          expect(":");
          top.key = key;
        }
        break;
      }
      if (sep === (top.kind === "a" ? "]" : "}")) {
        i++;
        stack.pop();
        value = top.v;
        continue;
      }
      fail(i >= text.length ? "unexpected end of input" : `expected ',' or '${top.kind === "a" ? "]" : "}"}'`);
    }
  }
}
