// Index sets and the per-index fields over them: the pages [0, pages) and each VM's guest frames
// [0, gfns). The transitions are written once against this interface, which has two
// interpretations:
//
//   unbounded: a field is a z3 array over Int, "for every page in a range" is a quantifier, and a
//     field update is a lambda. The size of the set may be symbolic: the inductive proofs run
//     here, for every memory size at once. z3 decides unsat queries over these terms well, but
//     a lambda makes a sat answer "unknown" (incomplete array theory).
//   finite: a field is one term per index of a concrete config, quantifiers are conjunctions.
//     Quantifier-free, so z3 answers sat as well as unsat: the differential test, the SMT
//     forms' agreement test and BMC run here.
//
// Both read an index outside the set as the field's default (zero / false), as the model's
// canonical state has it.

import type { B, N, Smt, SortName, Val, ValOf } from "./z3.js";

export interface Field<T extends Val> {
  at(i: N): T;
}

export interface Domain {
  readonly size: N;
  /** A field of fresh constants. */
  fresh<S extends SortName>(name: string, sort: S): Field<ValOf<S>>;
  /** A field holding the given values at 0, 1, ...; the default everywhere else. */
  concrete<S extends SortName>(sort: S, values: readonly (number | boolean)[]): Field<ValOf<S>>;
  /** The field whose value at i is fn(i). */
  map<S extends SortName>(sort: S, fn: (i: N) => ValOf<S>): Field<ValOf<S>>;
  /** body holds at every index of [lo, hi) inside the set. */
  forall(lo: N, hi: N, body: (i: N) => B): B;
  exists(lo: N, hi: N, body: (i: N) => B): B;
  /** a where c holds, b elsewhere: c is closed (it does not depend on the index). */
  choose<T extends Val>(c: B, a: Field<T>, b: Field<T>): Field<T>;
  /** Equal at every index of the set. */
  eq<T extends Val>(a: Field<T>, b: Field<T>): B;
  /** Equal at every index but i. */
  eqExcept<T extends Val>(a: Field<T>, b: Field<T>, i: N): B;
  /** The constants a field of fresh constants is made of, for substitution. */
  vars(f: Field<Val>): Val[];
}

export interface Backend {
  readonly smt: Smt;
  readonly unbounded: boolean;
  domain(size: N): Domain;
}

function dflt(smt: Smt, sort: SortName): Val {
  return sort === "int" ? smt.int(0) : sort === "bool" ? smt.F : smt.prot(0);
}

function value(smt: Smt, sort: SortName, v: number | boolean): Val {
  return sort === "int" ? smt.int(Number(v)) : sort === "bool" ? smt.bool(Boolean(v)) : smt.prot(Number(v));
}

// ---- finite -------------------------------------------------------------------------------

class FiniteField<T extends Val> implements Field<T> {
  constructor(readonly smt: Smt, readonly elems: readonly T[], readonly dflt: T) {}

  at(i: N): T {
    const k = this.smt.num(i);
    if (k !== undefined) return k >= 0 && k < this.elems.length ? this.elems[k] : this.dflt;
    let r = this.dflt;
    for (let j = this.elems.length - 1; j >= 0; j--) r = this.smt.ite(this.smt.eq(i, j), this.elems[j], r);
    return r;
  }
}

class FiniteDomain implements Domain {
  readonly size: N;
  constructor(readonly smt: Smt, readonly n: number) {
    this.size = smt.int(n);
  }

  fresh<S extends SortName>(name: string, sort: S): Field<ValOf<S>> {
    const elems = Array.from({ length: this.n }, (_, i) => this.smt.const(`${name}[${i}]`, sort));
    return new FiniteField(this.smt, elems, dflt(this.smt, sort) as ValOf<S>);
  }

  concrete<S extends SortName>(sort: S, values: readonly (number | boolean)[]): Field<ValOf<S>> {
    const elems = Array.from({ length: this.n }, (_, i) => value(this.smt, sort, values[i] ?? 0) as ValOf<S>);
    return new FiniteField(this.smt, elems, dflt(this.smt, sort) as ValOf<S>);
  }

  map<S extends SortName>(sort: S, fn: (i: N) => ValOf<S>): Field<ValOf<S>> {
    const elems = Array.from({ length: this.n }, (_, i) => fn(this.smt.int(i)));
    return new FiniteField(this.smt, elems, dflt(this.smt, sort) as ValOf<S>);
  }

  /** The indices of [lo, hi) that can lie inside the set, each with its membership condition. */
  private indices(lo: N, hi: N): [number, B][] {
    const { smt } = this;
    const a = smt.num(lo);
    const b = smt.num(hi);
    const from = a === undefined ? 0 : Math.max(a, 0);
    const to = b === undefined ? this.n : Math.min(b, this.n);
    const out: [number, B][] = [];
    for (let i = from; i < to; i++) out.push([i, smt.inRange(i, lo, hi)]);
    return out;
  }

  forall(lo: N, hi: N, body: (i: N) => B): B {
    const { smt } = this;
    return smt.and(...this.indices(lo, hi).map(([i, inside]) => smt.implies(inside, body(smt.int(i)))));
  }

  exists(lo: N, hi: N, body: (i: N) => B): B {
    const { smt } = this;
    return smt.or(...this.indices(lo, hi).map(([i, inside]) => smt.and(inside, body(smt.int(i)))));
  }

  choose<T extends Val>(c: B, a: Field<T>, b: Field<T>): Field<T> {
    const x = a as FiniteField<T>;
    const y = b as FiniteField<T>;
    return new FiniteField(this.smt, x.elems.map((t, i) => this.smt.ite(c, t, y.elems[i])), x.dflt);
  }

  eq<T extends Val>(a: Field<T>, b: Field<T>): B {
    const { smt } = this;
    return smt.and(...Array.from({ length: this.n }, (_, i) => smt.same(a.at(smt.int(i)), b.at(smt.int(i)))));
  }

  eqExcept<T extends Val>(a: Field<T>, b: Field<T>, i: N): B {
    const { smt } = this;
    return smt.and(
      ...Array.from({ length: this.n }, (_, j) => smt.or(smt.eq(i, j), smt.same(a.at(smt.int(j)), b.at(smt.int(j))))),
    );
  }

  vars(f: Field<Val>): Val[] {
    return [...(f as FiniteField<Val>).elems];
  }
}

export function finiteBackend(smt: Smt): Backend {
  return {
    smt,
    unbounded: false,
    domain(size: N): Domain {
      const n = smt.num(size);
      if (n === undefined) throw new Error("finite backend: the size of an index set must be a numeral");
      return new FiniteDomain(smt, n);
    },
  };
}

// ---- unbounded ----------------------------------------------------------------------------

type IntArray = ReturnType<Smt["Z"]["Array"]["const"]>;

export class ArrayField<T extends Val> implements Field<T> {
  constructor(readonly arr: IntArray) {}
  at(i: N): T {
    return this.arr.select(i) as unknown as T;
  }
}

/**
 * The array-valued ite `c ? a : b`. Read at a numeral index (concrete configs) it reads the two
 * sides, so that the select reduces to ground terms.
 */
class ChosenField<T extends Val> extends ArrayField<T> {
  constructor(readonly smt: Smt, readonly c: B, readonly a: ArrayField<T>, readonly b: ArrayField<T>) {
    super(smt.Z.If(c, a.arr, b.arr) as unknown as IntArray);
  }
  override at(i: N): T {
    return this.smt.num(i) === undefined ? super.at(i) : this.smt.ite(this.c, this.a.at(i), this.b.at(i));
  }
}

class ArrayDomain implements Domain {
  constructor(readonly smt: Smt, readonly size: N) {}

  fresh<S extends SortName>(name: string, sort: S): Field<ValOf<S>> {
    const Z = this.smt.Z;
    return new ArrayField(Z.Array.const(name, Z.Int.sort(), this.smt.sortOf(sort)));
  }

  concrete<S extends SortName>(sort: S, values: readonly (number | boolean)[]): Field<ValOf<S>> {
    const { smt } = this;
    const d = dflt(smt, sort);
    let arr = smt.Z.Array.K(smt.Z.Int.sort(), d as never) as unknown as IntArray;
    values.forEach((v, i) => {
      const t = value(smt, sort, v);
      if (!smt.Z.eqIdentity(t, d)) arr = arr.store(smt.int(i), t as never);
    });
    return new ArrayField(arr);
  }

  map<S extends SortName>(_sort: S, fn: (i: N) => ValOf<S>): Field<ValOf<S>> {
    const q = this.smt.bound();
    return new ArrayField(this.smt.Z.Lambda([q], fn(q) as never) as unknown as IntArray);
  }

  private guard(q: N, lo: N, hi: N): B {
    const { smt } = this;
    return smt.and(smt.inRange(q, lo, hi), smt.inRange(q, 0, this.size));
  }

  forall(lo: N, hi: N, body: (i: N) => B): B {
    const q = this.smt.bound();
    return this.smt.Z.ForAll([q], this.smt.implies(this.guard(q, lo, hi), body(q)));
  }

  exists(lo: N, hi: N, body: (i: N) => B): B {
    const q = this.smt.bound();
    return this.smt.Z.Exists([q], this.smt.and(this.guard(q, lo, hi), body(q)));
  }

  /** An array-valued ite: c stays outside every lambda (z3 4.16 can crash on a quantifier
   *  nested in a lambda body). */
  choose<T extends Val>(c: B, a: Field<T>, b: Field<T>): Field<T> {
    const l = this.smt.lit(c);
    if (l !== undefined) return l ? a : b;
    return new ChosenField(this.smt, c, a as ArrayField<T>, b as ArrayField<T>);
  }

  /**
   * With a numeral size (a concrete config) the equation is taken index by index: each select
   * of a lambda reduces to a ground term, where an array equation with a lambda may leave z3 at
   * "unknown".
   */
  eq<T extends Val>(a: Field<T>, b: Field<T>): B {
    const { smt } = this;
    const x = (a as ArrayField<T>).arr;
    const y = (b as ArrayField<T>).arr;
    if (smt.Z.eqIdentity(x, y)) return smt.T;
    const n = smt.num(this.size);
    if (n === undefined) return x.eq(y);
    return smt.and(...Array.from({ length: n }, (_, i) => smt.same(a.at(smt.int(i)), b.at(smt.int(i)))));
  }

  /** a == b with a's value at i written into b: one array equation, no quantifier. */
  eqExcept<T extends Val>(a: Field<T>, b: Field<T>, i: N): B {
    const x = (a as ArrayField<T>).arr;
    const y = (b as ArrayField<T>).arr;
    return this.smt.Z.eqIdentity(x, y) ? this.smt.T : x.eq(y.store(i, x.select(i)));
  }

  vars(f: Field<Val>): Val[] {
    return [(f as ArrayField<Val>).arr as unknown as Val];
  }
}

export function unboundedBackend(smt: Smt): Backend {
  return {
    smt,
    unbounded: true,
    domain: (size: N): Domain => new ArrayDomain(smt, size),
  };
}
