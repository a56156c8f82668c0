// The state graph of an exhaustive search, for the temporal properties: per state a few label
// bits (the predicates the properties ask about), and the successor edges of state-changing
// transitions in compressed sparse rows. A refused call or a no-op is a self-loop: it has no
// edge, and "enabled" below always means "would change the state".
//
// Memory: an edge is its target (4 bytes) and its alphabet index (2 bytes); a state is its row
// offset (4 bytes) and its labels (4 bytes). The search expands states in index order when it
// runs on one worker, so rows arrive sorted and are written in place; edges that arrive out of
// order (a parallel search) are kept with their source (4 more bytes each) and sorted once, by
// counting, when the graph is frozen.

import type { PkvmState } from "../../model/state.js";

/** What the search tells the graph: each new state once, each state-changing transition once. */
export interface EdgeSink {
  state(index: number, s: PkvmState): void;
  edge(from: number, to: number, action: number): void;
}

class Grow<T extends Uint32Array | Uint16Array> {
  length = 0;
  constructor(public a: T, private readonly make: (n: number) => T) {}
  push(v: number): void {
    if (this.length === this.a.length) {
      const b = this.make(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.length++] = v;
  }
  /** The values, trimmed to their length (a view: no copy). */
  view(): T {
    return this.a.subarray(0, this.length) as T;
  }
}

const u32 = (n: number) => new Uint32Array(n);
const u16 = (n: number) => new Uint16Array(n);

/** A frozen graph: rows of successors, and per state its label bits. */
export interface StateGraph {
  readonly states: number;
  readonly edges: number;
  /** Successors of s are to[offsets[s] .. offsets[s + 1]), reached by alphabet step act[...]. */
  readonly offsets: Uint32Array;
  readonly to: Uint32Array;
  readonly act: Uint16Array;
  readonly labels: Uint32Array;
  bytes(): { perEdge: number; perState: number };
}

/**
 * Collects the graph while the search runs. `label(s)` returns up to 32 predicate bits for a
 * state; it runs once per new state, so it must be cheap (no allocation).
 */
export class GraphBuilder implements EdgeSink {
  private readonly labels = new Grow(u32(1 << 12), u32);
  private readonly to = new Grow(u32(1 << 12), u32);
  private readonly act = new Grow(u16(1 << 12), u16);
  /** Row starts while edges arrive sorted by source; `from` once they do not. */
  private readonly offsets = new Grow(u32(1 << 12), u32);
  private from: Grow<Uint32Array> | undefined;

  constructor(private readonly label: (s: PkvmState) => number) {}

  state(index: number, s: PkvmState): void {
    while (this.labels.length <= index) this.labels.push(0);
    this.labels.a[index] = this.label(s) >>> 0;
  }

  edge(from: number, to: number, action: number): void {
    if (this.from === undefined && from + 1 < this.offsets.length) this.unsort();
    if (this.from) {
      this.from.push(from);
    } else {
      while (this.offsets.length <= from) this.offsets.push(this.to.length);
    }
    this.to.push(to);
    this.act.push(action);
  }

  /** An edge arrived for a row already closed: keep every edge's source from now on. */
  private unsort(): void {
    const from = new Grow(u32(Math.max(this.to.a.length, 16)), u32);
    const rows = this.offsets.view();
    for (let s = 0; s < rows.length; s++) {
      const end = s + 1 < rows.length ? rows[s + 1] : this.to.length;
      for (let e = rows[s]; e < end; e++) from.push(s);
    }
    this.from = from;
  }

  /** The graph of `states` states (the search's count: states without edges have empty rows). */
  freeze(states: number): StateGraph {
    while (this.labels.length < states) this.labels.push(0);
    const edges = this.to.length;
    const offsets = new Uint32Array(states + 1);
    let to = this.to.view();
    let act = this.act.view();
    if (this.from === undefined) {
      const rows = this.offsets.view();
      offsets.set(rows.subarray(0, Math.min(rows.length, states)));
      offsets.fill(edges, rows.length, states + 1);
    } else {
      // Counting sort by source: row sizes, their prefix sums, then each edge into its row.
      const from = this.from.view();
      for (let e = 0; e < edges; e++) offsets[from[e] + 1]++;
      for (let s = 0; s < states; s++) offsets[s + 1] += offsets[s];
      const next = offsets.slice(0, states);
      const sortedTo = new Uint32Array(edges);
      const sortedAct = new Uint16Array(edges);
      for (let e = 0; e < edges; e++) {
        const at = next[from[e]]++;
        sortedTo[at] = to[e];
        sortedAct[at] = act[e];
      }
      to = sortedTo;
      act = sortedAct;
    }
    const labels = this.labels.view();
    const held = to.buffer.byteLength + act.buffer.byteLength; // growth slack included
    return {
      states,
      edges,
      offsets,
      to,
      act,
      labels,
      bytes: () => ({ perEdge: edges ? held / edges : 0, perState: (offsets.byteLength + labels.buffer.byteLength) / Math.max(states, 1) }),
    };
  }
}

/** Predecessor rows of a graph (for backward reachability): sources into each state. */
export function reverseRows(g: StateGraph): { offsets: Uint32Array; from: Uint32Array } {
  const offsets = new Uint32Array(g.states + 1);
  for (let e = 0; e < g.edges; e++) offsets[g.to[e] + 1]++;
  for (let s = 0; s < g.states; s++) offsets[s + 1] += offsets[s];
  const next = offsets.slice(0, g.states);
  const from = new Uint32Array(g.edges);
  for (let s = 0; s < g.states; s++) {
    for (let e = g.offsets[s]; e < g.offsets[s + 1]; e++) from[next[g.to[e]]++] = s;
  }
  return { offsets, from };
}
