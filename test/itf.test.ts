// The ITF export, read back by a strict reader written from Apalache's ADR-015 (and the variant
// form Quint writes), independent of the writer: every exported state must read back into the
// model state word for word, and every state's mbt:: metadata must name the step that led to it.

import { describe, expect, it } from "vitest";
import { ACTION_BY_NAME, type Step } from "../model/actions.js";
import { makeArgs, parseProt, type ArgName } from "../model/args.js";
import { Contents, GuestEntry, Owner, PageState, PkvmState, S2, VmLife } from "../model/state.js";
import { World } from "../model/world.js";
import { alphabet } from "../src/alphabet.js";
import { resolveConfig } from "../src/configs.js";
import { Engine } from "../src/engine.js";
import { formatItf, itfPathFor } from "../src/report/itf.js";
import { traceStates } from "../src/report/view.js";
import { replay } from "../src/replay.js";
import { parseTrace, readTrace, type Trace } from "../src/trace.js";

// ---- a strict ITF reader (ADR-015) ---------------------------------------------------------

class Tup {
  constructor(readonly items: Value[]) {}
}
class ItfSet {
  constructor(readonly items: Value[]) {}
}
class ItfMap {
  constructor(readonly entries: [Value, Value][]) {}
}
class Variant {
  constructor(readonly tag: string, readonly value: Value) {}
}
class Rec {
  constructor(readonly fields: Map<string, Value>) {}
}
class Unserializable {
  constructor(readonly text: string) {}
}
type Value = bigint | string | boolean | Value[] | Tup | ItfSet | ItfMap | Variant | Rec | Unserializable;

interface ReadOptions {
  /** ADR-015 allows plain JSON integers; our writer promises #bigint everywhere. */
  plainIntegers: boolean;
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);

function readValue(x: unknown, at: string, o: ReadOptions): Value {
  const fail = (what: string): never => {
    throw new Error(`${at}: ${what}`);
  };
  if (typeof x === "string" || typeof x === "boolean") return x;
  if (typeof x === "number") {
    if (!o.plainIntegers) fail("a plain JSON number (expected #bigint)");
    return Number.isSafeInteger(x) ? BigInt(x) : fail(`${x} is not an integer in [-(2^53)+1, 2^53-1]`);
  }
  if (Array.isArray(x)) return x.map((e, i) => readValue(e, `${at}[${i}]`, o));
  if (!isObject(x)) return fail(`not an ITF expression: ${JSON.stringify(x)}`);
  const keys = Object.keys(x);
  const special = keys.filter((k) => k.startsWith("#"));
  if (special.length > 0) {
    if (keys.length !== 1) fail(`${special[0]} must be the object's only key, got ${keys.join(", ")}`);
    const [k] = keys;
    const v = x[k];
    const items = () => (Array.isArray(v) ? v.map((e, i) => readValue(e, `${at}.${k}[${i}]`, o)) : fail(`${k}: expected an array`));
    switch (k) {
      case "#bigint":
        return typeof v === "string" && /^-?[0-9]+$/.test(v) ? BigInt(v) : fail(`#bigint: expected "[-][0-9]+", got ${JSON.stringify(v)}`);
      case "#tup":
        return new Tup(items());
      case "#set":
        return new ItfSet(items());
      case "#unserializable":
        return typeof v === "string" ? new Unserializable(v) : fail("#unserializable: expected a string");
      case "#map": {
        if (!Array.isArray(v)) return fail("#map: expected an array of [key, value] pairs");
        const seen = new Set<string>();
        return new ItfMap(
          v.map((p, i) => {
            if (!Array.isArray(p) || p.length !== 2) fail(`#map[${i}]: expected a [key, value] pair`);
            const key = JSON.stringify(p[0]);
            if (seen.has(key)) fail(`#map[${i}]: duplicate key ${key}`);
            seen.add(key);
            return [readValue(p[0], `${at}.#map[${i}][0]`, o), readValue(p[1], `${at}.#map[${i}][1]`, o)];
          }),
        );
      }
      default:
        return fail(`unknown form ${k}`);
    }
  }
  if (keys.length === 2 && "tag" in x && "value" in x) {
    return typeof x.tag === "string" ? new Variant(x.tag, readValue(x.value, `${at}.value`, o)) : fail("variant tag: expected a string");
  }
  return new Rec(new Map(keys.map((k) => [k, readValue(x[k], `${at}.${k}`, o)])));
}

interface ItfTraceRead {
  meta?: Record<string, unknown>;
  vars: string[];
  states: { meta?: Record<string, unknown>; vars: Map<string, Value> }[];
  loop?: number;
}

function readItf(text: string, o: ReadOptions = { plainIntegers: true }): ItfTraceRead {
  const t: unknown = JSON.parse(text);
  if (!isObject(t)) throw new Error("trace: expected an object");
  for (const k of Object.keys(t)) if (!["#meta", "params", "vars", "states", "loop"].includes(k)) throw new Error(`trace: unknown key ${k}`);
  if (t["#meta"] !== undefined && !isObject(t["#meta"])) throw new Error("#meta: expected an object");
  const names = (x: unknown, key: string) => {
    if (!Array.isArray(x) || !x.every((n) => typeof n === "string") || new Set(x).size !== x.length) {
      throw new Error(`${key}: expected an array of distinct strings`);
    }
    return x as string[];
  };
  const params = t.params === undefined ? [] : names(t.params, "params");
  const vars = names(t.vars, "vars");
  if (!Array.isArray(t.states)) throw new Error("states: expected an array");
  const states = t.states.map((s, i) => {
    if (!isObject(s)) throw new Error(`states[${i}]: expected an object`);
    if (s["#meta"] !== undefined && !isObject(s["#meta"])) throw new Error(`states[${i}].#meta: expected an object`);
    const keys = Object.keys(s).filter((k) => k !== "#meta");
    const expected = i === 0 ? [...params, ...vars] : vars;
    for (const k of keys) if (!expected.includes(k)) throw new Error(`states[${i}]: ${k} is not a declared variable`);
    for (const v of vars) if (!(v in s)) throw new Error(`states[${i}]: variable ${v} missing`);
    return {
      meta: s["#meta"] as Record<string, unknown> | undefined,
      vars: new Map(keys.map((k) => [k, readValue(s[k], `states[${i}].${k}`, o)])),
    };
  });
  if (t.loop !== undefined && !(Number.isInteger(t.loop) && (t.loop as number) >= 0 && (t.loop as number) < states.length)) {
    throw new Error("loop: expected a state index");
  }
  return { meta: t["#meta"] as Record<string, unknown> | undefined, vars, states, loop: t.loop as number | undefined };
}

// ---- typed access to the values read --------------------------------------------------------

function as<T>(cls: new (...a: never[]) => T, v: Value | undefined, what: string): T {
  if (!(v instanceof cls)) throw new Error(`${what}: expected a ${cls.name}, got ${String(v)}`);
  return v;
}
const field = (v: Value | undefined, name: string) => as(Rec, v, name).fields.get(name) ?? fail(`no field ${name}`);
const num = (v: Value | undefined): number => (typeof v === "bigint" ? Number(v) : fail(`expected an integer, got ${String(v)}`));
const bool = (v: Value | undefined): boolean => (typeof v === "boolean" ? v : fail(`expected a boolean, got ${String(v)}`));
const str = (v: Value | undefined): string => (typeof v === "string" ? v : fail(`expected a string, got ${String(v)}`));
const entries = (v: Value | undefined) => as(ItfMap, v, "map").entries.map(([k, x]) => [num(k), x] as const);
/** A nullary variant: the tag, with the unit value Quint writes. */
function tagOf(v: Value | undefined): string {
  const x = as(Variant, v, "variant");
  return x.value instanceof Tup && x.value.items.length === 0 ? x.tag : fail(`${x.tag}: expected the unit value`);
}
const option = (v: Value | undefined): Value | undefined => {
  const x = as(Variant, v, "option");
  if (x.tag === "None") {
    tagOf(v); // None carries the unit value
    return undefined;
  }
  return x.tag === "Some" ? x.value : fail(`option: unknown tag ${x.tag}`);
};
function fail(message: string): never {
  throw new Error(message);
}
const enumValue = <E extends Record<string, string | number>>(e: E, tag: string): number =>
  typeof e[tag] === "number" ? (e[tag] as number) : fail(`unknown tag ${tag}`);

/** The model state an ITF state describes, built with PkvmState's own setters. */
function stateOf(w: World, vars: Map<string, Value>): Uint32Array {
  const k = new PkvmState(w);
  const loaded = option(vars.get("loaded"));
  if (loaded !== undefined) k.setLoaded(num(field(loaded, "vm")), num(field(loaded, "vcpu")));
  for (const [p, page] of entries(vars.get("pages"))) {
    const f = (name: string) => field(page, name);
    k.setHostState(p, enumValue(PageState, tagOf(f("host_state"))));
    k.setHypState(p, enumValue(PageState, tagOf(f("hyp_state"))));
    k.setHostShareGuestCount(p, num(f("host_share_guest_count")));
    k.setRefcount(p, num(f("refcount")));
    k.setHypS1Mapped(p, bool(f("hyp_stage1_mapped")));
    k.setFfaShared(p, bool(f("ffa_shared")));
    k.setLeaked(p, bool(f("leaked")));
    const s2 = as(Variant, f("host_stage2"), "host_stage2");
    if (s2.tag === "IDMAP") k.setHostS2Idmap(p, parseProt(str(s2.value)) ?? fail("prot"));
    else if (s2.tag === "ANNOTATION") {
      const owner = as(Variant, s2.value, "owner");
      if (owner.tag === "GUEST") k.setHostS2Annotation(p, Owner.GUEST, num(field(owner.value, "vm")), num(field(owner.value, "gfn")));
      else if (tagOf(owner) === "HYP") k.setHostS2Annotation(p, Owner.HYP);
      else fail(`annotation: unknown owner ${owner.tag}`);
    } else if (tagOf(s2) !== "EMPTY") fail(`host_stage2: unknown tag ${s2.tag}`);
    const contents = as(Variant, f("contents"), "contents");
    if (contents.tag === "GUEST") k.setContents(p, Contents.GUEST, num(contents.value));
    else k.setContents(p, enumValue(Contents, tagOf(contents)));
  }
  for (const [v, vm] of entries(vars.get("vms"))) {
    const f = (name: string) => field(vm, name);
    k.setVmLife(v, enumValue(VmLife, tagOf(f("life"))));
    k.setVmMetaPfn(v, num(f("metadata_pfn")));
    for (const [i, pfn] of entries(f("vcpus"))) {
      const some = option(pfn);
      if (some !== undefined) k.setVcpuPfn(v, i, num(some));
    }
    for (const [i, pages] of entries(f("memcaches"))) for (const pfn of pages as Value[]) k.memcachePush(v, i, num(pfn));
    (f("tables") as Value[]).forEach((t, i) => {
      const some = option(t);
      if (some !== undefined) k.setTablePfn(v, i, num(some));
    });
    for (const [gfn, leaf] of entries(f("gfns"))) {
      const x = as(Variant, leaf, "leaf");
      if (x.tag === "POISON") k.setGuestPoison(v, gfn);
      else if (x.tag === "MAPPED") {
        const g = (name: string) => field(x.value, name);
        k.setGuestMapping(v, gfn, num(g("pfn")), enumValue(PageState, tagOf(g("state"))), parseProt(str(g("prot"))) ?? fail("prot"), bool(g("block")));
      } else if (tagOf(x) !== "ABSENT") fail(`leaf: unknown tag ${x.tag}`);
    }
  }
  return k.s;
}

/** The step the mbt:: metadata names, rebuilt from the action name and the Some picks. */
function stepOf(vars: Map<string, Value>): Step | "init" {
  const name = str(vars.get("mbt::actionTaken"));
  if (name === "init") return "init";
  const action = ACTION_BY_NAME.get(name) ?? fail(`unknown action ${name}`);
  const picks = as(Rec, vars.get("mbt::nondetPicks"), "picks").fields;
  const args = makeArgs();
  for (const [arg, pick] of picks) {
    const v = option(pick);
    if ((v !== undefined) !== action.args.includes(arg as ArgName)) fail(`${name}: pick ${arg} ${v === undefined ? "missing" : "extra"}`);
    if (v === undefined) continue;
    if (arg === "prot") args.prot = parseProt(str(v)) ?? fail("prot");
    else if (arg === "mkold") args.mkold = bool(v);
    else args[arg as Exclude<ArgName, "prot" | "mkold">] = num(v);
  }
  return { action, args };
}

// ---- traces to export -------------------------------------------------------------------------

/** A seeded walk over the config's alphabet that prefers steps that succeed, to reach rich states. */
function walk(configName: string, seed: number, length: number): Trace {
  const { config } = resolveConfig(configName);
  const world = new World(config);
  const engine = new Engine(world);
  const steps = alphabet(world, { allowInternal: true });
  let s = engine.initial();
  let x = seed >>> 0;
  const rand = (n: number) => {
    x = (Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return x % n;
  };
  const taken: Step[] = [];
  for (let i = 0; i < length; i++) {
    let pick = steps[rand(steps.length)];
    for (let tries = 0; tries < 40; tries++) {
      const k = new PkvmState(world, s);
      if ((pick.enabled?.(k) ?? true) && engine.step(s, pick).ret === "0") break;
      pick = steps[rand(steps.length)];
    }
    s = engine.step(s, pick).state;
    taken.push({ action: pick.action, args: pick.args });
  }
  return { file: `walk-${configName}-${seed}.json`, config, configName, steps: taken.map((step) => ({ step })) };
}

const fixture = (path: string) => readTrace(new URL(path, import.meta.url).pathname);

/** What a walk rarely reaches: a block mapping, a memcache page left over, a poisoned frame, MMIO mapped. */
const BLOCK_AND_POISON = parseTrace(
  {
    format: "pkvm-trace/1",
    config: "wide",
    steps: [
      { action: "init_vm", args: { vm: 2, pfn: 2 }, expect: "0" },
      { action: "init_vcpu", args: { vm: 2, vcpu: 0, pfn: 3 }, expect: "0" },
      { action: "host_topup_memcache", args: { vm: 2, vcpu: 0, pfn: 4 }, expect: "0" },
      { action: "vcpu_load", args: { vm: 2, vcpu: 0 }, expect: "0" },
      { action: "host_share_guest", args: { vm: 2, pfn: 8, gfn: 0, nr_pages: 8, prot: "RWX" }, expect: "0" },
      { action: "vcpu_put", args: {}, expect: "0" },
      { action: "init_vm", args: { vm: 0, pfn: 5 }, expect: "0" },
      { action: "init_vcpu", args: { vm: 0, vcpu: 0, pfn: 6 }, expect: "0" },
      { action: "host_topup_memcache", args: { vm: 0, vcpu: 0, pfn: 7 }, expect: "0" },
      { action: "vcpu_load", args: { vm: 0, vcpu: 0 }, expect: "0" },
      { action: "host_donate_guest", args: { vm: 0, pfn: 16, gfn: 1 }, expect: "0" },
      { action: "vcpu_put", args: {}, expect: "0" },
      { action: "host_force_reclaim_page_guest", args: { pfn: 16 }, expect: "0" },
      { action: "host_read", args: { pfn: 60 }, expect: "0" },
    ],
  },
  "block-and-poison.json",
);

const TRACES: Trace[] = [
  fixture("fixtures/pass.json"),
  fixture("../findings/force-reclaim-stale-annotation-panic.json"),
  fixture("../findings/test-clear-young-erange-panic.json"),
  BLOCK_AND_POISON,
  walk("tiny", 1, 60),
  walk("default", 2, 80),
  walk("wide", 3, 150),
  walk("wide", 4, 150),
];

function exported(trace: Trace) {
  const r = replay(trace);
  const ts = traceStates(r.world, trace.steps.map((s) => s.step));
  return { r, ts, itf: readItf(formatItf(r, ts), { plainIntegers: false }) };
}

describe("ITF export", () => {
  it.each(TRACES.map((t) => [t.file, t] as const))("%s reads back into every model state", (_, trace) => {
    const { r, ts, itf } = exported(trace);
    expect(itf.vars).toEqual(["loaded", "pages", "vms", "ret", "mbt::actionTaken", "mbt::nondetPicks"]);
    expect(itf.states).toHaveLength(trace.steps.length + 1);
    itf.states.forEach((st, i) => {
      expect(st.meta?.index).toBe(i);
      expect(Array.from(stateOf(ts.world, st.vars)), `state ${i}`).toEqual(Array.from(ts.states[i]));
      const step = stepOf(st.vars);
      const ret = option(st.vars.get("ret"));
      if (i === 0) {
        expect(step).toBe("init");
        expect(ret).toBeUndefined();
      } else {
        expect(step).toEqual(trace.steps[i - 1].step);
        expect(ret).toBe(r.steps[i - 1].ret);
      }
    });
  });

  it("exercises every shape of the state: the walks reach them all", () => {
    const seen = new Set<string>();
    for (const t of TRACES) {
      const { ts } = exported(t);
      for (const s of ts.states) {
        const k = new PkvmState(ts.world, s);
        for (let p = 0; p < ts.world.pages; p++) {
          if (k.refcount(p) > 0) seen.add("pinned");
          if (k.ffaShared(p)) seen.add("ffa");
          if (k.leaked(p)) seen.add("leaked");
          if (k.hostShareGuestCount(p) > 0) seen.add("shared with a guest");
          if (k.contents(p) === Contents.GUEST) seen.add("guest contents");
          if (!ts.world.isMemory(p) && k.hostS2(p) === S2.IDMAP) seen.add("MMIO mapped");
        }
        ts.world.config.vms.forEach((vm, v) => {
          for (let i = 0; i < vm.vcpus; i++) if (k.memcacheCount(v, i) > 0) seen.add("memcache");
          for (let t = 0; t < ts.world.vm[v].nTables; t++) if (k.tablePfn(v, t) >= 0) seen.add("table");
          for (let g = 0; g < vm.gfns; g++) {
            if (k.guestEntry(v, g) === GuestEntry.POISON) seen.add("poison");
            if (k.guestEntry(v, g) === GuestEntry.MAPPED && k.guestBlock(v, g)) seen.add("block");
            if (k.guestState(v, g) === PageState.SHARED_BORROWED) seen.add("borrowed frame");
          }
          if (k.vmLife(v) === VmLife.DYING) seen.add("dying");
        });
      }
    }
    expect([...seen].sort()).toEqual(
      ["MMIO mapped", "block", "borrowed frame", "dying", "ffa", "guest contents", "leaked", "memcache", "pinned", "poison", "shared with a guest", "table"].sort(),
    );
  });

  it("records the violation in #meta and on the violating state", () => {
    const { itf } = exported(TRACES[1]);
    expect(itf.meta).toMatchObject({ format: "ITF", violations: [{ property: "no-hyp-panic", step: 11 }] });
    expect(itf.states[12].meta).toEqual({ index: 12, violated: ["no-hyp-panic"] });
    expect(itf.states[11].meta).toEqual({ index: 11 });
  });

  it("names the file next to a counterexample", () => {
    expect(itfPathFor("counterexamples/no-hyp-panic-3361f01d9430.json")).toBe("counterexamples/no-hyp-panic-3361f01d9430.itf.json");
  });
});

describe("the strict ITF reader", () => {
  const good = { vars: ["x"], states: [{ "#meta": { index: 0 }, x: { "#bigint": "-12" } }] };
  const read = (t: unknown) => readItf(JSON.stringify(t));

  it("reads every form of ADR-015", () => {
    const t = read({
      "#meta": { source: "x" },
      params: ["N"],
      vars: ["v"],
      states: [{ N: 3, v: [{ "#tup": ["a", true] }, { "#set": [] }, { "#map": [[{ "#bigint": "1" }, "b"]] }, { tag: "A", value: { f: 1 } }, { "#unserializable": "Int" }] }],
      loop: 0,
    });
    const [list] = [t.states[0].vars.get("v") as Value[]];
    expect(t.states[0].vars.get("N")).toBe(3n);
    expect(list[0]).toEqual(new Tup(["a", true]));
    expect(list[1]).toEqual(new ItfSet([]));
    expect(list[2]).toEqual(new ItfMap([[1n, "b"]]));
    expect(list[3]).toEqual(new Variant("A", new Rec(new Map([["f", 1n]]))));
    expect(list[4]).toEqual(new Unserializable("Int"));
  });

  it.each([
    ["an unknown top-level key", { ...good, extra: 1 }, "trace: unknown key extra"],
    ["a missing variable", { vars: ["x", "y"], states: good.states }, "variable y missing"],
    ["an undeclared variable", { vars: [], states: good.states }, "x is not a declared variable"],
    ["an unknown # form", { vars: ["x"], states: [{ x: { "#bag": [] } }] }, "unknown form #bag"],
    ["a # form with other keys", { vars: ["x"], states: [{ x: { "#tup": [], y: 1 } }] }, "must be the object's only key"],
    ["a malformed #bigint", { vars: ["x"], states: [{ x: { "#bigint": "1e3" } }] }, "#bigint: expected"],
    ["a #map entry that is not a pair", { vars: ["x"], states: [{ x: { "#map": [[1]] } }] }, "expected a [key, value] pair"],
    ["a duplicate #map key", { vars: ["x"], states: [{ x: { "#map": [[1, 2], [1, 3]] } }] }, "duplicate key"],
    ["a fraction", { vars: ["x"], states: [{ x: 1.5 }] }, "not an integer"],
    ["null", { vars: ["x"], states: [{ x: null }] }, "not an ITF expression"],
    ["a loop past the states", { ...good, loop: 1 }, "loop: expected a state index"],
  ])("rejects %s", (_, t, message) => {
    expect(() => read(t)).toThrow(message);
  });

  it("rejects plain numbers where the writer promises #bigint", () => {
    expect(() => readItf(JSON.stringify({ vars: ["x"], states: [{ x: 1 }] }), { plainIntegers: false })).toThrow("plain JSON number");
  });
});
