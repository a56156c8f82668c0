// The temporal properties (properties/property.ts) on the exhaustive search's state graph: the
// label bits each one needs on every state, and after the search, each violated property's
// counterexample as alphabet paths (a path to a doomed state, or a lasso).
//
// The graph must be the whole reachable graph: a search cut short leaves states without their
// edges, which would look doomed, so callers check only complete searches. Temporal checking
// needs one graph of global state indices: a parallel search reports its edges to the same
// sink (graph.ts sorts them), or runs single-worker when temporal properties are on. A search
// that merges symmetric states must not feed it: a per-instance property (leads-to per VM slot)
// is not invariant under swapping slots, and the edges between representatives would not be
// transitions of the model.

import type { PkvmState } from "../../model/state.js";
import type { World } from "../../model/world.js";
import type { Finding, TemporalProperty } from "../../properties/property.js";
import type { AlphabetStep } from "../alphabet.js";
import { GraphBuilder, type StateGraph } from "./graph.js";
import { cannotReach, fairLasso } from "./temporal.js";

const MAX_LABELS = 32;

/** A violated temporal property, as the search found it. */
export interface TemporalViolation {
  property: string;
  kind: TemporalProperty["kind"];
  /** Alphabet indices from the initial state. */
  path: number[];
  /** Leads-to: the cycle starts at path[loop] and returns to the state before it (loop = path.length: stutters there). */
  loop?: number;
  /** AG EF: the alphabet steps that still change the doomed state (none of them helps). */
  enabled?: number[];
}

interface Slot {
  property: TemporalProperty;
  bit: number;
  instance: number;
}

/** The fair alphabet steps of a leads-to: the host's own calls (semantics 5a). */
export function fairSteps(alphabet: readonly AlphabetStep[]): boolean[] {
  return alphabet.map((s) => s.action.caller === "host");
}

export class TemporalCheck {
  readonly builder: GraphBuilder;
  private readonly slots: Slot[] = [];

  constructor(world: World, readonly properties: readonly TemporalProperty[]) {
    let bit = 0;
    for (const property of properties) {
      const n = property.kind === "leads-to" ? property.instances(world) : 1;
      for (let instance = 0; instance < n; instance++) {
        this.slots.push({ property, bit, instance });
        bit += property.kind === "leads-to" ? 2 : 1;
      }
    }
    if (bit > MAX_LABELS) throw new Error(`temporal: ${bit} label bits needed, at most ${MAX_LABELS}`);
    this.builder = new GraphBuilder((s) => this.label(s));
  }

  private label(s: PkvmState): number {
    let bits = 0;
    for (const { property: p, bit, instance } of this.slots) {
      if (p.kind === "always-eventually-possible") {
        if (p.goal(s)) bits |= 1 << bit;
      } else {
        if (p.p(s, instance)) bits |= 1 << bit;
        if (p.q(s, instance)) bits |= 1 << (bit + 1);
      }
    }
    return bits;
  }

  /** Every violated property's counterexample; `pathTo(i)` is the search's path to state i. */
  violations(g: StateGraph, alphabet: readonly AlphabetStep[], pathTo: (index: number) => number[]): TemporalViolation[] {
    const out: TemporalViolation[] = [];
    const fair = fairSteps(alphabet);
    for (const { property: p, bit } of this.slots) {
      if (out.some((v) => v.property === p.id)) continue;
      if (p.kind === "always-eventually-possible") {
        const doomed = cannotReach(g, bit);
        if (doomed < 0) continue;
        const enabled = Array.from(g.act.subarray(g.offsets[doomed], g.offsets[doomed + 1]));
        out.push({ property: p.id, kind: p.kind, path: pathTo(doomed), enabled });
      } else {
        const lasso = fairLasso(g, bit, bit + 1, fair);
        if (!lasso) continue;
        const prefix = pathTo(lasso.start);
        const path = [...prefix, ...lasso.stem, ...lasso.cycle];
        out.push({ property: p.id, kind: p.kind, path, loop: prefix.length + lasso.stem.length });
      }
    }
    return out;
  }
}

/** The reason an AG EF counterexample gives: what is unmet, and what the doomed state still allows. */
export function doomedMessage(unmet: Finding, enabled: readonly AlphabetStep[]): string {
  const counts = new Map<string, number>();
  for (const s of enabled) counts.set(s.action.name, (counts.get(s.action.name) ?? 0) + 1);
  const still = [...counts].map(([name, n]) => (n > 1 ? `${name} x${n}` : name)).join(", ");
  return `${unmet.message}; no path from this state reaches the goal` +
    (enabled.length ? `: the ${enabled.length} calls that still change the state (${still}) never lead back` : ": no call changes the state any more");
}
