/**
 * @file The jit compiler generates JavaScript (`new Function`), so no user-controlled string may
 * ever reach the generated text. Pytree keys, parameter names and primitive names full of quotes,
 * backticks, newlines, a star followed by a slash, `${`, `</script>`, U+2028/U+2029, `__proto__` and injection attempts
 * (`"]; globalThis.pwned=1; //`) must work — jit equals the interpreter and eager execution,
 * through grad and scan — and inject nothing: `globalThis.pwned` stays unset and the generated
 * source contains none of the strings. The graph printers must keep such names inert too: DOT
 * labels escaped so the DOT stays valid and says the name, the text form one equation per line.
 *
 * Audit (packages/autodiff/src/compile/): the only `new Function` is Module.instantiate, whose
 * source is assembled from generated identifiers (B/D/N/F/w + counters), integers checked by
 * `int`, dtype names, operator text from ewOps, and the fixed prelude; constants, descriptors and
 * fallback closures (a user primitive's impl) are passed in the arrays P/C/S/H. Primitive names
 * never reach the text: known primitives are matched by identity, others run as fallback closures.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import * as A from "@rewind/autodiff";
import type { Value } from "@rewind/autodiff";
import * as T from "@rewind/tensor";
import { bind } from "../packages/autodiff/src/core.js";

/** The strings, each followed by a marker so the generated source can be searched for it. */
const HOSTILE = [
  '"',
  "'",
  "`",
  "\\",
  "\n",
  "\r\n",
  "*/",
  "/*",
  "${globalThis.pwned=1}",
  "`;globalThis.pwned=1;`",
  "</script><script>globalThis.pwned=1</script>",
  "\u2028",
  "\u2029",
  '"]; globalThis.pwned=1; //',
  "'); globalThis.pwned=1; ('",
  "\u0000",
  "\ud800",
  "a.b[0]",
  "",
  " ",
  "𝔘",
  "<!--",
  "-->",
  "$&",
  "\\u0022",
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "hasOwnProperty",
  "__defineGetter__",
  "valueOf",
] as const;
const MARK = "ZQX";

const pwned = (): unknown => (globalThis as Record<string, unknown>)["pwned"];
afterEach(() => {
  expect(pwned()).toBeUndefined();
  expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
});

/** A plain object with every hostile key as an own data property (`__proto__` included). */
const keyed = <V>(value: (i: number) => V, mark = ""): Record<string, V> =>
  Object.fromEntries(HOSTILE.map((k, i) => [`${k}${mark}`, value(i)]));
const params = keyed((i) => T.tensor([0.25 * i - 1, 0.5, -0.125 * i], "float64"));
const marked = keyed((i) => T.tensor([0.1 * i, -0.3], "float32"), MARK);

/** Bit-identical pytrees with the same own keys (in order) and the same static values. */
const expectSameTree = (actual: unknown, expected: unknown, where: string): void => {
  const [al, ad] = A.treeFlatten(actual);
  const [el, ed] = A.treeFlatten(expected);
  expect(A.treeDefKey(ad), where).toBe(A.treeDefKey(ed));
  al.forEach((l, i) => {
    const [a, e] = [l as T.Tensor, el[i] as T.Tensor];
    expect([a.dtype, a.shape], where).toEqual([e.dtype, e.shape]);
    expect(
      Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength).equals(
        Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength),
      ),
      `${where} leaf ${i}`,
    ).toBe(true);
  });
  for (const tree of [actual, expected]) {
    if (typeof tree === "object" && tree !== null && !T.isTensor(tree) && !Array.isArray(tree)) {
      expect(Object.getPrototypeOf(tree), `${where}: the object's prototype`).toBe(Object.prototype);
    }
  }
};

/** f three ways — eager, jit interpreted, jit compiled — with the same answer. */
const expectInvariant = (where: string, f: (...args: never[]) => unknown, args: readonly unknown[]): void => {
  const eager = (f as (...a: unknown[]) => unknown)(...args);
  const interpreted = A.jit(f as (...a: unknown[]) => unknown, { compile: false })(...args);
  const compiled = A.jit(f as (...a: unknown[]) => unknown)(...args);
  expectSameTree(interpreted, eager, `${where}: interpreted`);
  expectSameTree(compiled, eager, `${where}: compiled`);
};

/** The generated source for f at args, through jit's own graph. */
const sourceOf = (f: (...args: never[]) => unknown, args: readonly unknown[]): string =>
  A.compileGraph(A.jit(f as (...a: unknown[]) => unknown).graphFor(...args).graph).source;

describe("the compiler's one way into generated code", () => {
  const dir = join(dirname(fileURLToPath(import.meta.url)), "..", "packages", "autodiff", "src");
  const sources = readdirSync(join(dir, "compile")).map(
    (f) => [`compile/${f}`, readFileSync(join(dir, "compile", f), "utf8")] as const,
  );

  it("is Module.instantiate's single `new Function`, and nothing in the package evaluates text elsewhere", () => {
    const all = [
      ...sources,
      ...readdirSync(dir)
        .filter((f) => f.endsWith(".ts"))
        .map((f) => [f, readFileSync(join(dir, f), "utf8")] as const),
    ];
    const code = (text: string): string => text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
    const evaluators = all.flatMap(([f, text]) =>
      [...code(text).matchAll(/\bnew Function\b|\beval\s*\(|\bFunction\s*\(|setTimeout\s*\(\s*["'`]/g)].map(() => f),
    );
    expect(evaluators).toEqual(["compile/module.ts"]);
  });
});

describe("pytree keys that look like code", () => {
  const f = (p: Record<string, Value>) =>
    Object.fromEntries(Object.entries(p).map(([k, v]) => [k, A.tanh(A.mul(v, A.add(v, 1)))]));
  const loss = (p: Record<string, Value>) => A.sum(A.stack(Object.values(p).map((v) => A.sum(A.mul(A.sin(v), v)))));

  it("every own key survives jit, including __proto__ (as a key, not a prototype)", () => {
    expectInvariant("map over keys", f, [params]);
    const out = A.jit(f)(params);
    expect(Object.keys(out).sort()).toEqual(Object.keys(params).sort()); // pytrees order keys by sorting
    expect(Object.hasOwn(out, "__proto__") && T.isTensor(out["__proto__"])).toBe(true);
  });

  it("grad and valueAndGrad return the same hostile keys, under jit too", () => {
    expectInvariant("grad", A.grad(loss), [params]);
    const g = A.jit(A.grad(loss))(params) as Record<string, T.Tensor>;
    expect(Object.keys(g).sort()).toEqual(Object.keys(params).sort());
    expectInvariant("valueAndGrad", A.valueAndGrad(loss), [params]);
  });

  it("scan with hostile keys in the carry and in xs", () => {
    const xs = keyed((i) =>
      T.tensor(
        [
          [0.5, i],
          [-1, 0.25],
          [2, -0.5],
        ],
        "float64",
      ),
    );
    const step = (
      carry: Record<string, Value>,
      x: Record<string, Value>,
    ): [Record<string, Value>, Record<string, Value>] => {
      const next = Object.fromEntries(Object.entries(carry).map(([k, c]) => [k, A.tanh(A.add(A.mul(c, 0.9), x[k]!))]));
      return [next, next];
    };
    const init = keyed(() => T.tensor([0, 0.1], "float64"));
    const run = (c: Record<string, Value>, x: Record<string, Value>) => A.scan(step, c, x);
    expectInvariant("scan", run, [init, xs]);
    expectInvariant(
      "grad of scan",
      A.grad((c: Record<string, Value>, x: Record<string, Value>) =>
        A.sum(A.stack(Object.values(A.scan(step, c, x)[0]).map((v) => A.sum(v)))),
      ),
      [init, xs],
    );
  });

  it("static values and Immutable Map keys with hostile strings", () => {
    const g = (x: Value, cfg: { label: string; scale: number }) => ({
      [cfg.label]: A.mul(x, cfg.scale),
      label: cfg.label,
    });
    for (const label of HOSTILE)
      expectInvariant(`static ${JSON.stringify(label)}`, g, [
        T.tensor([1, 2], "float32"),
        { label, scale: label.length + 1 },
      ]);
  });

  it("static values that JSON prints alike (NaN, ±Infinity and null; 0 and -0; 1 and 1n) are not confused by jit's cache", () => {
    // Retracing for each static value is the point here: the warning about it is silenced.
    const f = A.jit(
      (x: Value, cfg: { s: unknown }) => A.mul(x, typeof cfg.s === "number" ? cfg.s : cfg.s === null ? 7 : 5),
      { warnRetraces: false },
    );
    const x = T.tensor([1, -2], "float64");
    for (const s of [NaN, Infinity, -Infinity, null, 0, -0, 1, 1n, "1"]) {
      const want = A.mul(x, typeof s === "number" ? s : s === null ? 7 : 5) as T.Tensor;
      expectSameTree(f(x, { s }), want, `static ${String(s)}`);
    }
    expect(f.cacheSize()).toBe(9);
  });

  it("the generated source contains none of the keys", () => {
    const source = [sourceOf(f, [marked]), sourceOf(A.grad(loss), [marked])].join("\n");
    expect(source).not.toContain(MARK);
    expect(source).not.toContain("pwned");
    expect(source).not.toContain("script");
  });
});

describe("primitive names and params that look like code", () => {
  const named = (name: string) =>
    A.definePrimitive<string, { note: string }>({
      name,
      abstractEval: ([x]) => [x!],
      impl: ([x]) => [T.mul(x!, 3)],
      vjp: ([g], _ctx, k) => [k.mul(g!, 3)],
    });
  const use = (name: string) => (x: Value) =>
    A.sum(A.exp(bind(named(`${name}${MARK}`), [A.tanh(x)], { note: `${name}${MARK}` })[0]!));
  const x = T.tensor([0.5, -1, 2], "float64");

  it.each(HOSTILE.map((n) => [JSON.stringify(n), n] as const))(
    "%s: runs, differentiates, and stays out of the source",
    (_, name) => {
      expectInvariant("value", use(name), [x]);
      expectInvariant("grad", A.grad(use(name)), [x]);
      const source = sourceOf(A.grad(use(name)), [x]);
      expect(source).not.toContain(MARK);
    },
  );

  it("printGraph keeps one equation per line and shows each name unambiguously", () => {
    for (const name of HOSTILE) {
      const text = A.printGraph(A.makeGraph(use(name))(x));
      const lines = text.split("\n");
      expect(lines, JSON.stringify(name)).toHaveLength(6);
      // eslint-disable-next-line no-control-regex -- the point: no NUL may reach the printed text
      expect(text).not.toMatch(/[\u2028\u2029\r\u0000]/);
      // A name that is not a plain identifier is shown as a JSON string (U+2028/U+2029 escaped too).
      const full = `${name}${MARK}`;
      const shown = /^[A-Za-z_$][\w$.]*$/.test(full)
        ? full
        : JSON.stringify(full).replace(/[\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
      const eqn = lines.find((l) => l.includes(MARK))!;
      expect(eqn, JSON.stringify(name)).toContain(` = ${shown}[note=`);
    }
  });
});

/** Splits DOT into tokens; throws on anything a DOT parser would not accept as a token. */
const dotTokens = (dot: string): string[] => {
  const re = /\s+|"((?:[^"\\]|\\[\s\S])*)"|->|[{}[\];,=]|[A-Za-z_][A-Za-z0-9_]*|-?\d+(?:\.\d+)?/y;
  const out: string[] = [];
  for (let i = 0; i < dot.length;) {
    re.lastIndex = i;
    const m = re.exec(dot);
    if (m === null) throw new Error(`invalid DOT at ${i}: ${JSON.stringify(dot.slice(i, i + 30))}`);
    if (!/^\s+$/.test(m[0])) out.push(m[0]);
    i = re.lastIndex;
  }
  return out;
};
/** What a DOT label string says: `\"` is a quote, `\\` a backslash, `\n` and `\r` line breaks. */
const unescapeDot = (quoted: string): string =>
  quoted.slice(1, -1).replace(/\\([\s\S])/g, (_, c: string) => (c === "n" ? "\n" : c === "r" ? "\r" : c));
/** How a label shows a name: characters a DOT file cannot hold (controls, U+2028/9, lone surrogates) as `\uXXXX` text. */
const displayed = (name: string): string =>
  name.replace(
    // eslint-disable-next-line no-control-regex -- matches the control characters a DOT label must escape
    /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u2028\u2029]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );

describe("toDot", () => {
  const scanBody = (name: string) => (c: Value, xs: Value) =>
    A.scan(
      (h: Value, xt: Value): [Value, Value] => {
        const y = bind(
          A.definePrimitive<string, void>({
            name,
            abstractEval: ([a]) => [a!],
            impl: ([a]) => [a!],
            vjp: ([g]) => [g!],
          }),
          [A.add(h, xt)],
          undefined,
        )[0]!;
        return [y, y];
      },
      c,
      xs,
    );

  // Primitive names must be non-empty (definePrimitive refuses ""), so "" is not a name here.
  it.each(HOSTILE.filter((n) => n !== "").map((n) => [JSON.stringify(n), n] as const))(
    "%s: the DOT tokenises, braces balance, and the labels say the name",
    (_, name) => {
      const dot = A.toDot(A.makeGraph(scanBody(name))(T.tensor([0, 0], "float32"), T.zeros([3, 2], "float32")));
      const tokens = dotTokens(dot);
      expect(tokens.filter((t) => t === "{").length).toBe(tokens.filter((t) => t === "}").length);
      // eslint-disable-next-line no-control-regex -- the point: no NUL may reach the DOT text
      expect(dot).not.toMatch(/[\r\u2028\u2029\u0000]/);
      const labels = tokens.flatMap((t, i) =>
        tokens[i - 2] === "label" && tokens[i - 1] === "=" && t.startsWith('"') ? [unescapeDot(t)] : [],
      );
      expect(labels).toContain(displayed(name));
      expect(labels.some((l) => l.startsWith("scan "))).toBe(true);
    },
  );
});

describe("error messages that name hostile keys", () => {
  it("a structure mismatch names the key as data, and runs nothing", () => {
    const key = '"]; globalThis.pwned=1; //';
    const mismatch = () => A.treeMap((a: Value) => a, { [key]: T.scalar(1) }, { [key]: T.scalar(1), b: T.scalar(2) });
    expect(mismatch).toThrow(A.GraphException);
    expect(mismatch).toThrow(JSON.stringify(key));
  });

  it("a user primitive's failure inside compiled code surfaces as its own error", () => {
    const boom = A.definePrimitive<string, void>({
      name: `"]; globalThis.pwned=1; //${MARK}`,
      abstractEval: ([a]) => [a!],
      impl: () => {
        throw new Error(`impl of ${MARK} failed`);
      },
      vjp: ([g]) => [g!],
    });
    const f = A.jit((v: Value) => A.exp(bind(boom, [A.tanh(v)], undefined)[0]!));
    expect(() => f(T.tensor([1], "float32"))).toThrow(`impl of ${MARK} failed`);
  });
});
