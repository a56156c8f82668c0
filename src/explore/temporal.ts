// The temporal analyses on a frozen state graph (graph.ts). Both return paths as alphabet
// indices, which the caller replays into a concrete trace; neither recurses (the graphs have
// millions of edges).
//
// - AG EF p: backward reachability from the p-states; a state outside it can never reach p.
// - p ~> q under weak fairness of a set of actions: the ¬q-states reachable from a p∧¬q-state
//   through ¬q-states, split into strongly connected components (iterative Tarjan). A component
//   C holds a fair ¬q run iff every fair action that is enabled in all of C's states is taken by
//   an edge inside C: a cycle through all of C then takes it, and every other fair action is
//   disabled somewhere on that cycle. (Weak fairness needs no refinement of C, unlike strong.)
//   A single state with every fair action disabled is such a component: the run stutters there,
//   making only refused calls.

import { reverseRows, type StateGraph } from "./graph.js";

/** The bit of a label in the graph's per-state label word. */
const has = (g: StateGraph, s: number, bit: number) => ((g.labels[s] >>> bit) & 1) === 1;

/**
 * The lowest-index state from which no path reaches a state with label `goal`, or -1. With the
 * search's breadth-first numbering it is one of the shallowest such states.
 */
export function cannotReach(g: StateGraph, goal: number): number {
  const rev = reverseRows(g);
  const reaches = new Uint8Array(g.states);
  const queue = new Uint32Array(g.states);
  let tail = 0;
  for (let s = 0; s < g.states; s++) {
    if (has(g, s, goal)) {
      reaches[s] = 1;
      queue[tail++] = s;
    }
  }
  for (let head = 0; head < tail; head++) {
    const t = queue[head];
    for (let e = rev.offsets[t]; e < rev.offsets[t + 1]; e++) {
      const s = rev.from[e];
      if (!reaches[s]) {
        reaches[s] = 1;
        queue[tail++] = s;
      }
    }
  }
  return reaches.indexOf(0);
}

/** A fair lasso: from `start` (a p∧¬q state), `stem` leads to the cycle, which returns to its first state. */
export interface Lasso {
  start: number;
  stem: number[];
  cycle: number[];
}

/** Moves through states of a set, breadth-first: the shortest path (alphabet indices) from s to a target. */
function pathWithin(g: StateGraph, inSet: (s: number) => boolean, from: number, isTarget: (s: number) => boolean): { path: number[]; end: number } {
  if (isTarget(from)) return { path: [], end: from };
  const parent = new Map<number, [number, number]>([[from, [-1, -1]]]);
  const queue = [from];
  for (let head = 0; head < queue.length; head++) {
    const s = queue[head];
    for (let e = g.offsets[s]; e < g.offsets[s + 1]; e++) {
      const t = g.to[e];
      if (!inSet(t) || parent.has(t)) continue;
      parent.set(t, [s, g.act[e]]);
      if (isTarget(t)) {
        const path: number[] = [];
        for (let x = t; x !== from; x = parent.get(x)![0]) path.push(parent.get(x)![1]);
        return { path: path.reverse(), end: t };
      }
      queue.push(t);
    }
  }
  throw new Error("temporal: no path inside a strongly connected component (graph corrupted)");
}

/**
 * Strongly connected components of the states `inSet` admits, by Tarjan's algorithm with an
 * explicit stack; `onComponent` gets each one's states as soon as it is complete (components
 * come out successors first) and may stop the walk by returning true.
 */
function components(g: StateGraph, inSet: (s: number) => boolean, onComponent: (members: Uint32Array, id: number) => boolean, comp: Int32Array): void {
  const order = new Int32Array(g.states).fill(-1);
  const low = new Uint32Array(g.states);
  const stack: number[] = [];
  const onStack = new Uint8Array(g.states);
  const calls: number[] = []; // pairs: state, next edge to look at
  let counter = 0;
  let ids = 0;
  for (let root = 0; root < g.states; root++) {
    if (!inSet(root) || order[root] >= 0) continue;
    order[root] = low[root] = counter++;
    stack.push(root);
    onStack[root] = 1;
    calls.push(root, g.offsets[root]);
    while (calls.length > 0) {
      const s = calls[calls.length - 2];
      const e = calls[calls.length - 1];
      if (e < g.offsets[s + 1]) {
        calls[calls.length - 1] = e + 1;
        const t = g.to[e];
        if (!inSet(t)) continue;
        if (order[t] < 0) {
          order[t] = low[t] = counter++;
          stack.push(t);
          onStack[t] = 1;
          calls.push(t, g.offsets[t]);
        } else if (onStack[t] && order[t] < low[s]) {
          low[s] = order[t];
        }
        continue;
      }
      calls.length -= 2;
      if (calls.length > 0) {
        const parent = calls[calls.length - 2];
        if (low[s] < low[parent]) low[parent] = low[s];
      }
      if (low[s] !== order[s]) continue;
      const members: number[] = [];
      let x: number;
      do {
        x = stack.pop()!;
        onStack[x] = 0;
        comp[x] = ids;
        members.push(x);
      } while (x !== s);
      if (onComponent(Uint32Array.from(members), ids++)) return;
    }
  }
}

/**
 * A fair lasso violating p ~> q (label bits `p` and `q`; `fair[a]` marks the weakly fair
 * alphabet steps), or undefined when p ~> q holds.
 */
export function fairLasso(g: StateGraph, p: number, q: number, fair: readonly boolean[]): Lasso | undefined {
  // The ¬q-states reachable from a p∧¬q-state through ¬q-states, with breadth-first parents.
  const parentState = new Int32Array(g.states).fill(-2); // -2: not reached, -1: a start
  const parentAct = new Uint16Array(g.states);
  const queue: number[] = [];
  for (let s = 0; s < g.states; s++) {
    if (has(g, s, p) && !has(g, s, q)) {
      parentState[s] = -1;
      queue.push(s);
    }
  }
  for (let head = 0; head < queue.length; head++) {
    const s = queue[head];
    for (let e = g.offsets[s]; e < g.offsets[s + 1]; e++) {
      const t = g.to[e];
      if (parentState[t] !== -2 || has(g, t, q)) continue;
      parentState[t] = s;
      parentAct[t] = g.act[e];
      queue.push(t);
    }
  }
  const reached = (s: number) => parentState[s] !== -2;

  const comp = new Int32Array(g.states).fill(-1);
  const enabledIn = new Uint32Array(fair.length);
  const takenIn = new Uint8Array(fair.length);
  let found: { members: Uint32Array; id: number } | undefined;
  components(g, reached, (members, id) => {
    const touched: number[] = [];
    for (const s of members) {
      for (let e = g.offsets[s]; e < g.offsets[s + 1]; e++) {
        const a = g.act[e];
        if (!fair[a]) continue;
        if (enabledIn[a]++ === 0) touched.push(a);
        if (comp[g.to[e]] === id) takenIn[a] = 1;
      }
    }
    const ok = touched.every((a) => enabledIn[a] < members.length || takenIn[a] === 1);
    for (const a of touched) {
      enabledIn[a] = 0;
      takenIn[a] = 0;
    }
    if (ok) found = { members, id };
    return ok;
  }, comp);
  if (!found) return undefined;

  // The stem: back along the breadth-first parents from the component to a start.
  const { members, id } = found;
  const entry = members[0];
  const stem: number[] = [];
  let start = entry;
  for (; parentState[start] >= 0; start = parentState[start]) stem.push(parentAct[start]);
  stem.reverse();
  return { start, stem, cycle: fairCycle(g, members, id, comp, entry, fair) };
}

/**
 * A cycle from `entry` through component `id` that takes every fair action enabled in all its
 * states and visits, for every other fair action, a state where it is disabled.
 */
function fairCycle(g: StateGraph, members: Uint32Array, id: number, comp: Int32Array, entry: number, fair: readonly boolean[]): number[] {
  const size = members.length;
  const enabledIn = new Uint32Array(fair.length);
  const edgeOf = new Int32Array(fair.length).fill(-1); // an edge inside C taking the action
  for (const s of members) {
    for (let e = g.offsets[s]; e < g.offsets[s + 1]; e++) {
      const a = g.act[e];
      if (!fair[a]) continue;
      enabledIn[a]++;
      if (comp[g.to[e]] === id && edgeOf[a] < 0) edgeOf[a] = e;
    }
  }
  // Witnesses: an edge to take, or a state to pass through where the action is disabled.
  const edges: number[] = [];
  const stops = new Set<number>();
  const needDisabled = new Set<number>();
  fair.forEach((isFair, a) => {
    if (!isFair || enabledIn[a] === 0) return;
    if (enabledIn[a] === size) edges.push(edgeOf[a]);
    else needDisabled.add(a);
  });
  const enabledAt = (s: number, a: number) => {
    for (let e = g.offsets[s]; e < g.offsets[s + 1]; e++) if (g.act[e] === a) return true;
    return false;
  };
  for (const s of members) {
    if (needDisabled.size === 0) break;
    for (const a of [...needDisabled]) {
      if (!enabledAt(s, a)) {
        needDisabled.delete(a);
        stops.add(s);
      }
    }
  }
  const inC = (s: number) => comp[s] === id;
  const cycle: number[] = [];
  let at = entry;
  const goTo = (target: number) => {
    const { path } = pathWithin(g, inC, at, (s) => s === target);
    cycle.push(...path);
    at = target;
  };
  for (const s of stops) goTo(s);
  for (const e of edges) {
    goTo(edgeSource(g, e));
    cycle.push(g.act[e]);
    at = g.to[e];
  }
  goTo(entry);
  return cycle;
}

/** The source state of edge e (rows are sorted: a binary search over the offsets). */
function edgeSource(g: StateGraph, e: number): number {
  let lo = 0;
  let hi = g.states - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (g.offsets[mid] <= e) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
