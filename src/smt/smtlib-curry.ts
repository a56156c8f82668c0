// z3's multi-index arrays (`(Array Int Int Int)`, `(select a i j)`, `(store a i j v)`: the
// ghost numbering of borrowers) are not SMT-LIB 2 and cvc5 does not read them. Curried, they
// are: `(Array Int (Array Int Int))`, `(select (select a i) j)`,
// `(store a i (store (select a i) j v))`, the same theory. For proofs:recheck (src/smt/recheck.ts).

type Sexp = string | Sexp[];

/** The text's s-expressions, comments dropped. */
function parse(text: string): Sexp[] {
  const tokens = text.replace(/;[^\n]*/g, "").match(/\|[^|]*\||"(?:[^"]|"")*"|[()]|[^\s()|";]+/g) ?? [];
  let at = 0;
  const one = (): Sexp => {
    const t = tokens[at++];
    if (t !== "(") return t;
    const list: Sexp[] = [];
    while (tokens[at] !== ")") list.push(one());
    at++;
    return list;
  };
  const out: Sexp[] = [];
  while (at < tokens.length) out.push(one());
  return out;
}

function print(s: Sexp): string {
  return typeof s === "string" ? s : `(${s.map(print).join(" ")})`;
}

const isArraySort = (s: Sexp): s is Sexp[] => Array.isArray(s) && s[0] === "Array";

function curry(s: Sexp): Sexp {
  if (typeof s === "string") return s;
  // ((as const (Array A B C)) v): a constant array of constant arrays.
  const head = s[0];
  if (Array.isArray(head) && head[0] === "as" && head[1] === "const" && isArraySort(head[2]) && head[2].length > 3) {
    const [, A, ...rest] = head[2];
    return [["as", "const", curry(["Array", A, ...rest])], curry([["as", "const", ["Array", ...rest]], s[1]])];
  }
  const c = s.map(curry);
  if (c[0] === "Array" && c.length > 3) return ["Array", c[1], curry(["Array", ...c.slice(2)])];
  if (c[0] === "select" && c.length > 3) return curry(["select", ["select", c[1], c[2]], ...c.slice(3)]);
  if (c[0] === "store" && c.length > 4) return ["store", c[1], c[2], curry(["store", ["select", c[1], c[2]], ...c.slice(3)])];
  return c;
}

/** The file (comments dropped) with every multi-index array curried. */
export function curryArrays(text: string): string {
  return `${parse(text).map((s) => print(curry(s))).join("\n")}\n`;
}
