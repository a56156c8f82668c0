// What a seeded fault is: a named, minimal deviation from the real model that reproduces the
// mechanism of one of pKVM's historical bugs or design hazards (semantics section 7), so that
// `pkvm-check faults` can show which engine catches it, how fast, and with what counterexample.

import { builtinConfig, resolveConfig, type NamedConfig } from "../configs.js";
import type { ModelVariant } from "../engine.js";
import type { SmtVariant } from "../smt/relation.js";

export interface Fault {
  /** Stable: `--fault` and a counterexample's meta.fault name it. */
  readonly name: string;
  /** The bug or hazard of semantics section 7 it reproduces ("B1" .. "B12"), or "new". */
  readonly bug: string;
  /** One line: what the faulty kernel does, and what that lets the host or a guest do. */
  readonly description: string;
  readonly variant: ModelVariant;
  /**
   * The same fault in the SMT encoding (sym-view.ts), for the inductive prover; absent where the
   * encoding cannot state it (`smtNa` says why).
   */
  readonly smt?: SmtVariant;
  readonly smtNa?: string;
  /** The world it needs where `default` (exhaustive) and `wide` (random) cannot show it. */
  readonly config?: NamedConfig;
}

/** `default` with some keys changed: a fault's own world, given inline. */
export function defaultWith(name: string, changes: Record<string, unknown>): NamedConfig {
  return resolveConfig({ ...builtinConfig("default")!.json, ...changes }, name);
}
