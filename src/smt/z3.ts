// The one z3 context of the process and a small term algebra over it. init() costs about half a
// second and every term lives in the context's wasm memory, so the context is made once and
// shared; solvers are reused with push / pop.
//
// The algebra folds constants: with concrete arguments (the differential test, BMC) most of a
// transition's terms collapse to numerals before z3 sees them, which keeps the wasm calls few.

import { init, type Arith, type BitVec, type Bool, type CheckSatResult, type Context, type Expr, type SMTArray, type Solver, type Sort } from "z3-solver";

export type Z3 = Context<"main">;
export type B = Bool<"main">;
/** Every index and enumeration is an unbounded Int: pfns, gfns, counts, page states, errnos. */
export type N = Arith<"main">;
/** R, W, X as a 3-bit vector, so that relax_perms / wrprotect are one | / & each. */
export type P = BitVec<3, "main">;
export type Val = B | N | P;
export type Arr = SMTArray<"main", [Sort<"main">, ...Sort<"main">[]], Sort<"main">>;
export type AnyExpr = Expr<"main">;

let context: Promise<Z3> | undefined;

// z3-solver frees a term when its JS wrapper is garbage collected, from a FinalizationRegistry.
// A check runs on a z3 worker thread, and z3 is not thread-safe: a finalizer that releases a
// term while a check runs corrupts the heap. The registry z3-solver makes is therefore one
// whose callbacks wait while any check runs (see checkSat() below).
let checking = 0;
const deferred: (() => void)[] = [];

class DeferredRegistry<T> {
  private readonly inner: FinalizationRegistry<T>;
  constructor(cleanup: (held: T) => void) {
    this.inner = new RealRegistry<T>((held) => (checking > 0 ? deferred.push(() => cleanup(held)) : cleanup(held)));
  }
  register(target: WeakKey, held: T, token?: WeakKey): void {
    this.inner.register(target, held, token);
  }
  unregister(token: WeakKey): boolean {
    return this.inner.unregister(token);
  }
}

const RealRegistry = globalThis.FinalizationRegistry;

/** The shared context; the first call pays for loading z3. */
export function z3(): Promise<Z3> {
  if (!context) {
    globalThis.FinalizationRegistry = DeferredRegistry as unknown as FinalizationRegistryConstructor;
    context = init()
      .then(({ Context }) => Context("main"))
      .finally(() => {
        globalThis.FinalizationRegistry = RealRegistry;
      });
  }
  return context;
}

/** solver.check() with term finalizers held back until it returns. */
export async function checkSat(solver: Solver<"main">): Promise<CheckSatResult> {
  checking++;
  try {
    return await solver.check();
  } finally {
    if (--checking === 0) deferred.splice(0).forEach((cleanup) => cleanup());
  }
}

/** z3's resource counter: one per context, advanced by every check of every solver. */
function rlimitCount(solver: Solver<"main">): number {
  const stats = solver.statistics();
  try {
    return stats.keys().includes("rlimit count") ? stats.get("rlimit count") : 0;
  } finally {
    stats.release();
  }
}

/**
 * What one proof obligation may spend. z3's resource limit (rlimit) counts z3's own steps, so
 * an answer within it is the same on a loaded machine as on an idle one; each check of the
 * obligation may spend a share of it. The wall-clock limit is only a safety net, shared by all
 * checks of the obligation. Without an rlimit, each check gets its share of the wall-clock
 * limit instead (faster to fail, but the answer depends on the machine's load).
 */
/** A check z3 answered: the solver as it was asked (for its SMT-LIB text), and the answer. */
export type CheckHook = (c: { readonly transition: string; readonly goal: string; readonly solver: Solver<"main">; readonly result: CheckSatResult }) => void;

export class Budget {
  /** Resource units the current obligation's checks have spent. */
  spent = 0;
  /** After every check, with the solver still holding what was asked. */
  onCheck?: (solver: Solver<"main">, result: CheckSatResult) => void;
  private deadline = Infinity;

  constructor(
    readonly rlimit: number | undefined,
    readonly timeoutMs: number,
  ) {}

  /** A new obligation: nothing spent, the safety net reset. */
  start(): void {
    this.spent = 0;
    this.deadline = Date.now() + this.timeoutMs;
  }

  /** solver.check() on what the solver holds, with `share` (0..1] of the obligation's budget. */
  async check(solver: Solver<"main">, share = 1): Promise<{ result: CheckSatResult; reason: string }> {
    const units = this.rlimit === undefined ? 0 : Math.max(1, Math.ceil(this.rlimit * share));
    const left = this.deadline - Date.now();
    if (this.rlimit !== undefined && left <= 0) return { result: "unknown", reason: `wall-clock safety net: the obligation took over ${this.timeoutMs / 1000} s` };
    solver.set("rlimit", units);
    solver.set("timeout", this.rlimit === undefined ? Math.max(1, Math.ceil(this.timeoutMs * share)) : Math.ceil(left));
    const before = rlimitCount(solver);
    let result: CheckSatResult;
    let reason = "";
    try {
      result = await checkSat(solver);
      if (result === "unknown") reason = solver.reasonUnknown();
    } catch (e) {
      result = "unknown";
      reason = (e as Error).message;
    }
    const spent = rlimitCount(solver) - before;
    this.spent += spent;
    this.onCheck?.(solver, result);
    if (result === "unknown" && units > 0 && spent >= units) reason = `rlimit: spent its ${units} units`;
    else if (result === "unknown" && this.rlimit !== undefined && Date.now() >= this.deadline) reason = `wall-clock safety net: the obligation took over ${this.timeoutMs / 1000} s`;
    return { result, reason };
  }
}

/**
 * Is f satisfiable with what the solver holds? Asked in a push / pop of its own (asserted, not
 * assumed: assertions get z3's preprocessing, which quantified terms need).
 */
export async function checkWith(solver: Solver<"main">, f: Bool<"main">): Promise<CheckSatResult> {
  solver.push();
  solver.add(f);
  try {
    return await checkSat(solver);
  } finally {
    solver.pop();
  }
}

export type SortName = "int" | "bool" | "prot";
export type ValOf<S extends SortName> = S extends "int" ? N : S extends "bool" ? B : P;

/** Terms with constant folding, and fresh names for bound variables. */
export class Smt {
  private readonly ints = new Map<number, N>();
  private fresh = 0;
  readonly T: B;
  readonly F: B;

  constructor(readonly Z: Z3) {
    this.T = Z.Bool.val(true);
    this.F = Z.Bool.val(false);
  }

  int(n: number): N {
    let t = this.ints.get(n);
    if (!t) this.ints.set(n, (t = this.Z.Int.val(n)));
    return t;
  }

  prot(n: number): P {
    return this.Z.BitVec.val(n, 3);
  }

  bool(b: boolean): B {
    return b ? this.T : this.F;
  }

  /** A fresh constant; names only need to be unique, z3 does not read them. */
  const<S extends SortName>(name: string, sort: S): ValOf<S> {
    const Z = this.Z;
    const c = sort === "int" ? Z.Int.const(name) : sort === "bool" ? Z.Bool.const(name) : Z.BitVec.const(name, 3);
    return c as ValOf<S>;
  }

  /** A bound variable for one quantifier or lambda: never shared, so nesting cannot capture. */
  bound(): N {
    return this.Z.Int.const(`q!${this.fresh++}`);
  }

  sortOf(sort: SortName): Sort<"main"> {
    const Z = this.Z;
    return sort === "int" ? Z.Int.sort() : sort === "bool" ? Z.Bool.sort() : Z.BitVec.sort(3);
  }

  /** The JS number of an Int numeral (an exact one), or undefined. */
  num(t: N): number | undefined {
    if (!this.Z.isIntVal(t)) return undefined;
    const v = Number(t.value());
    return this.exact(v) ? v : undefined;
  }

  lit(t: B): boolean | undefined {
    return this.Z.isTrue(t) ? true : this.Z.isFalse(t) ? false : undefined;
  }

  n(x: N | number): N {
    return typeof x === "number" ? this.int(x) : x;
  }

  /** Folds only where a JS number is exact: pfn + nr_pages may pass 2^53. */
  private exact(r: number): boolean {
    return Number.isSafeInteger(r);
  }

  add(a: N | number, b: N | number): N {
    const x = typeof a === "number" ? a : this.num(a);
    const y = typeof b === "number" ? b : this.num(b);
    if (x !== undefined && y !== undefined && this.exact(x + y)) return this.int(x + y);
    if (y === 0) return this.n(a);
    if (x === 0) return this.n(b);
    return this.n(a).add(this.n(b));
  }

  sub(a: N | number, b: N | number): N {
    const x = typeof a === "number" ? a : this.num(a);
    const y = typeof b === "number" ? b : this.num(b);
    if (x !== undefined && y !== undefined && this.exact(x - y)) return this.int(x - y);
    if (y === 0) return this.n(a);
    return this.n(a).sub(this.n(b));
  }

  /** a mod m for a constant m > 0 (a linear term: blockPages is fixed by the config). */
  mod(a: N, m: number): N {
    const x = this.num(a);
    if (x !== undefined) return this.int(((x % m) + m) % m);
    return m === 1 ? this.int(0) : a.mod(m);
  }

  private cmp(a: N | number, b: N | number, f: (x: number, y: number) => boolean, g: (x: N, y: N) => B): B {
    const x = typeof a === "number" ? a : this.num(a);
    const y = typeof b === "number" ? b : this.num(b);
    if (x !== undefined && y !== undefined) return this.bool(f(x, y));
    return g(this.n(a), this.n(b));
  }

  eq(a: N | number, b: N | number): B {
    if (typeof a !== "number" && typeof b !== "number" && this.Z.eqIdentity(a, b)) return this.T;
    return this.cmp(a, b, (x, y) => x === y, (x, y) => x.eq(y));
  }
  ne(a: N | number, b: N | number): B {
    return this.not(this.eq(a, b));
  }
  lt(a: N | number, b: N | number): B {
    return this.cmp(a, b, (x, y) => x < y, (x, y) => x.lt(y));
  }
  le(a: N | number, b: N | number): B {
    return this.cmp(a, b, (x, y) => x <= y, (x, y) => x.le(y));
  }
  gt(a: N | number, b: N | number): B {
    return this.lt(b, a);
  }
  ge(a: N | number, b: N | number): B {
    return this.le(b, a);
  }
  /** lo <= i < hi */
  inRange(i: N | number, lo: N | number, hi: N | number): B {
    return this.and(this.le(lo, i), this.lt(i, hi));
  }

  /** Equality of any two values of the same sort. */
  same(a: Val, b: Val): B {
    if (this.Z.eqIdentity(a, b)) return this.T;
    if (this.Z.isBool(a)) return this.iff(a, b as B);
    if (this.Z.isInt(a)) return this.eq(a as N, b as N);
    const x = this.Z.isBitVecVal(a) ? Number(a.value()) : undefined;
    const y = this.Z.isBitVecVal(b) ? Number((b as P & { value(): bigint }).value()) : undefined;
    if (x !== undefined && y !== undefined) return this.bool(x === y);
    return (a as P).eq(b as P);
  }

  not(a: B): B {
    const x = this.lit(a);
    return x === undefined ? this.Z.Not(a) : this.bool(!x);
  }

  and(...xs: B[]): B {
    const keep: B[] = [];
    for (const x of xs) {
      const v = this.lit(x);
      if (v === false) return this.F;
      if (v === undefined) keep.push(x);
    }
    return keep.length === 0 ? this.T : keep.length === 1 ? keep[0] : this.Z.And(...keep);
  }

  or(...xs: B[]): B {
    const keep: B[] = [];
    for (const x of xs) {
      const v = this.lit(x);
      if (v === true) return this.T;
      if (v === undefined) keep.push(x);
    }
    return keep.length === 0 ? this.F : keep.length === 1 ? keep[0] : this.Z.Or(...keep);
  }

  implies(a: B, b: B): B {
    return this.or(this.not(a), b);
  }

  iff(a: B, b: B): B {
    const x = this.lit(a);
    const y = this.lit(b);
    if (x !== undefined && y !== undefined) return this.bool(x === y);
    if (x !== undefined) return x ? b : this.not(b);
    if (y !== undefined) return y ? a : this.not(a);
    return a.eq(b);
  }

  ite<T extends Val>(c: B, a: T, b: T): T {
    const x = this.lit(c);
    if (x !== undefined) return x ? a : b;
    if (this.Z.eqIdentity(a, b)) return a;
    return this.Z.If(c, a as AnyExpr, b as AnyExpr) as unknown as T;
  }

  /** cases in order, the first whose condition holds wins; `dflt` when none does. */
  cond<T extends Val>(cases: [B, T][], dflt: T): T {
    let r = dflt;
    for (let i = cases.length - 1; i >= 0; i--) r = this.ite(cases[i][0], cases[i][1], r);
    return r;
  }

  /** Sum of 0/1 indicators. */
  count(xs: B[]): N {
    let r: N = this.int(0);
    for (const x of xs) r = this.add(r, this.ite(x, this.int(1), this.int(0)));
    return r;
  }

  protOr(a: P, b: P): P {
    return this.fold(a, b, (x, y) => x | y) ?? a.or(b);
  }

  protAnd(a: P, b: P): P {
    return this.fold(a, b, (x, y) => x & y) ?? a.and(b);
  }

  private fold(a: P, b: P, f: (x: number, y: number) => number): P | undefined {
    const Z = this.Z;
    if (Z.isBitVecVal(a) && Z.isBitVecVal(b)) return this.prot(f(Number(a.value()), Number(b.value())));
    return undefined;
  }
}
