// The adversary's alphabet: for a config, the finite list of steps an explorer tries in every
// state. Every host and guest hypercall and every access, over argument domains that include
// the interesting invalid values: one pfn past the limit, nr_pages 0 and one that overflows,
// unaligned and oversized block ranges, a gfn past the guest, every VM and vCPU.
// Threat model (semantics 5a): hyp_donate_host only with `allowInternal`.

import { ACTIONS, type ActionDef, type Step } from "../model/actions.js";
import { formatProt, makeArgs, type ArgName, type Args } from "../model/args.js";
import { PROT_R, PROT_RWX, PROT_W, type PkvmState } from "../model/state.js";
import type { World } from "../model/world.js";
import { InputError } from "../model/config.js";

export const OVERFLOW_NR = Number.MAX_SAFE_INTEGER;

export interface AlphabetOptions {
  /** Include hyp-internal actions the host cannot choose (hyp_donate_host). */
  allowInternal?: boolean;
  /** How many pins the hyp holds on one page at most (default 2): it pins for its own use. */
  pinBound?: number;
}

/**
 * A step of the alphabet. Hyp-side steps carry the hyp's own discipline as a guard: it pins a
 * page at most `pinBound` times and unpins only what it pinned (semantics 5a). Host and guest
 * steps have no guard: the adversary calls anything, anytime.
 */
export interface AlphabetStep extends Step {
  readonly enabled?: (k: PkvmState) => boolean;
}

function everyPage(k: PkvmState, { pfn, nr_pages }: Args, ok: (p: number) => boolean): boolean {
  for (let p = pfn; p < pfn + nr_pages; p++) if (p >= k.w.pages || !ok(p)) return false;
  return true;
}

function hypGuard(step: Step, pinBound: number): AlphabetStep {
  const a = step.args;
  if (step.action.name === "hyp_pin_shared_mem") return { ...step, enabled: (k) => everyPage(k, a, (p) => k.refcount(p) < pinBound) };
  if (step.action.name === "hyp_unpin_shared_mem") return { ...step, enabled: (k) => everyPage(k, a, (p) => k.refcount(p) > 0) };
  return step;
}

/** The values one argument ranges over: listed, or 0 .. size - 1 (pfns and gfns, never listed). */
export interface Domain {
  readonly size: number;
  at(i: number): number | boolean;
  has(v: number | boolean): boolean;
  /** Set for 0 .. size - 1. */
  readonly range?: true;
}

function rangeDomain(n: number): Domain {
  return { size: n, at: (i) => i, has: (v) => typeof v === "number" && Number.isInteger(v) && v >= 0 && v < n, range: true };
}

function listDomain(values: readonly (number | boolean)[]): Domain {
  const list = [...new Set(values)];
  return { size: list.length, at: (i) => list[i], has: (v) => list.includes(v) };
}

/** The values each argument ranges over, per action where it matters. */
function domain(w: World, action: ActionDef, arg: ArgName, vm: number): Domain {
  const { blockPages, vms } = w.config;
  switch (arg) {
    case "vm":
      // A VM slot without vCPUs has no step of an action that names a vCPU.
      return action.args.includes("vcpu") ? listDomain(vms.flatMap((v, i) => (v.vcpus > 0 ? [i] : []))) : rangeDomain(vms.length);
    case "vcpu":
      return rangeDomain(vms[vm].vcpus);
    case "pfn":
      return rangeDomain(w.pages + 1);
    case "gfn":
      return rangeDomain(vms[vm].gfns + 1);
    case "nr_pages":
      // Guest transitions take one page or one block; host ranges also 0 and an overflow.
      return action.args.includes("gfn") ? listDomain([0, 1, blockPages]) : listDomain([0, 1, Math.min(blockPages, w.pages), OVERFLOW_NR]);
    case "prot":
      // share: read-only and everything; relax: add write. Enough to reach every access outcome.
      return listDomain(action.name === "host_share_guest" ? [PROT_R, PROT_RWX] : [PROT_W]);
    case "mkold":
      return listDomain([true]);
  }
}

/** A materialised alphabet larger than this is refused: an exhaustive search could not expand a state. */
export const MAX_ALPHABET = 1 << 22;

/**
 * The alphabet of a world without its steps: the actions that have steps, each argument's domain
 * and any one step on demand. The random engine draws from it directly, so that its cost does
 * not grow with the number of pages; `alphabet()` lists it for the exhaustive search.
 */
export class AlphabetSpace {
  /** The actions with at least one step, in ACTIONS order. */
  readonly actions: readonly ActionDef[];
  private readonly pinBound: number;

  constructor(readonly world: World, opts: AlphabetOptions = {}) {
    this.pinBound = opts.pinBound ?? 2;
    this.actions = ACTIONS.filter(
      (a) =>
        (a.caller !== "internal" || opts.allowInternal) &&
        (!a.memcacheOnly || world.config.memcache) &&
        this.stepsOf(a) > 0,
    );
  }

  domain(action: ActionDef, arg: ArgName, vm: number): Domain {
    return domain(this.world, action, arg, vm);
  }

  /** The step of `action` with these arguments (each in its domain), with the hyp's guard. */
  step(action: ActionDef, args: Partial<Args>): AlphabetStep {
    return hypGuard({ action, args: makeArgs(args) }, this.pinBound);
  }

  /** How many steps `action` has: the product of its domains, summed over VM slots. */
  stepsOf(action: ActionDef): number {
    const rest = (vm: number) => action.args.filter((a) => a !== "vm").reduce((n, a) => n * domain(this.world, action, a, vm).size, 1);
    if (!action.args.includes("vm")) return rest(0);
    const vms = domain(this.world, action, "vm", 0);
    let n = 0;
    for (let i = 0; i < vms.size; i++) n += rest(vms.at(i) as number);
    return n;
  }

  get size(): number {
    return this.actions.reduce((n, a) => n + this.stepsOf(a), 0);
  }

  /** Every step, in order: by action, then by each argument's domain. */
  steps(): AlphabetStep[] {
    const steps: AlphabetStep[] = [];
    for (const action of this.actions) {
      const expand = (i: number, acc: Partial<Args>): void => {
        if (i === action.args.length) {
          steps.push(this.step(action, acc));
          return;
        }
        const arg = action.args[i];
        const d = domain(this.world, action, arg, acc.vm ?? 0);
        for (let j = 0; j < d.size; j++) expand(i + 1, { ...acc, [arg]: d.at(j) });
      };
      expand(0, {});
    }
    return steps;
  }
}

/** The alphabet of a config, per action: its step count and each argument's domain, for `list`. */
export function describeAlphabet(w: World, opts: AlphabetOptions = {}): { action: string; steps: number; domains: string }[] {
  const space = new AlphabetSpace(w, opts);
  return space.actions.map((action) => {
    const vms = action.args.includes("vm") ? domain(w, action, "vm", 0) : rangeDomain(1);
    const domains = action.args.map((arg) => {
      const per = Array.from({ length: vms.size }, (_, i) => domain(w, action, arg, vms.at(i) as number));
      if (per.every((d) => d.range)) {
        const n = Math.max(...per.map((d) => d.size));
        return `${arg} in {${n <= 8 ? Array.from({ length: n }, (_, i) => i).join(", ") : `0..${n - 1}`}}`;
      }
      const values = [...new Set(per.flatMap((d) => Array.from({ length: d.size }, (_, i) => d.at(i))))];
      return `${arg} in {${values.map((v) => (arg === "prot" ? formatProt(v as number) : String(v))).join(", ")}}`;
    });
    const guard = space.step(action, {}).enabled ? " (hyp discipline guard)" : "";
    return { action: action.name, steps: space.stepsOf(action), domains: domains.join(", ") + guard };
  });
}

/**
 * Every step of a config's alphabet, for the exhaustive search; refused past MAX_ALPHABET with an
 * InputError naming `where` (the config), before any step is built.
 */
export function alphabet(w: World, opts: AlphabetOptions = {}, where = "config"): AlphabetStep[] {
  const space = new AlphabetSpace(w, opts);
  const size = space.size;
  if (size > MAX_ALPHABET) {
    throw new InputError(
      `${where}: this world's alphabet has ${size} steps (pfn arguments range over ${w.pages + 1} pfns), over the ${MAX_ALPHABET} an exhaustive search expands per state: use the random engine or fewer pages`,
    );
  }
  return space.steps();
}
