// The adversary's alphabet: for a config, the finite list of steps an explorer tries in every
// state. Every host and guest hypercall and every access, over argument domains that include
// the interesting invalid values: one pfn past the limit, nr_pages 0 and one that overflows,
// unaligned and oversized block ranges, a gfn past the guest, every VM and vCPU.
// Threat model (semantics 5a): hyp_donate_host only with `allowInternal`.

import { ACTIONS, type ActionDef, type Step } from "../model/actions.js";
import { formatProt, makeArgs, type ArgName, type Args } from "../model/args.js";
import { PROT_R, PROT_RWX, PROT_W, type PkvmState } from "../model/state.js";
import type { World } from "../model/world.js";

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

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** The values each argument ranges over, per action where it matters. */
function domain(w: World, action: ActionDef, arg: ArgName, vm: number): (number | boolean)[] {
  const { blockPages, vms } = w.config;
  switch (arg) {
    case "vm":
      return range(vms.length);
    case "vcpu":
      return range(vms[vm].vcpus);
    case "pfn":
      return range(w.pages + 1);
    case "gfn":
      return range(vms[vm].gfns + 1);
    case "nr_pages":
      // Guest transitions take one page or one block; host ranges also 0 and an overflow.
      return action.args.includes("gfn")
        ? [...new Set([0, 1, blockPages])]
        : [...new Set([0, 1, Math.min(blockPages, w.pages), OVERFLOW_NR])];
    case "prot":
      // share: read-only and everything; relax: add write. Enough to reach every access outcome.
      return action.name === "host_share_guest" ? [PROT_R, PROT_RWX] : [PROT_W];
    case "mkold":
      return [true];
  }
}

/** The alphabet of a config, per action: its step count and each argument's domain, for `list`. */
export function describeAlphabet(w: World, opts: AlphabetOptions = {}): { action: string; steps: number; domains: string }[] {
  const steps = alphabet(w, opts);
  return ACTIONS.filter((a) => steps.some((s) => s.action === a)).map((action) => {
    const mine = steps.filter((s) => s.action === action);
    const domains = action.args.map((arg) => {
      const values = [...new Set(mine.map((s) => (arg === "prot" ? formatProt(s.args.prot) : String(s.args[arg]))))];
      return `${arg} in {${values.join(", ")}}`;
    });
    const guard = mine[0].enabled ? " (hyp discipline guard)" : "";
    return { action: action.name, steps: mine.length, domains: domains.join(", ") + guard };
  });
}

export function alphabet(w: World, opts: AlphabetOptions = {}): AlphabetStep[] {
  const steps: AlphabetStep[] = [];
  const pinBound = opts.pinBound ?? 2;
  for (const action of ACTIONS) {
    if (action.caller === "internal" && !opts.allowInternal) continue;
    if (action.memcacheOnly && !w.config.memcache) continue;
    if (action.args.includes("vm") && w.config.vms.length === 0) continue;
    const expand = (i: number, acc: Partial<Args>): void => {
      if (i === action.args.length) {
        steps.push(hypGuard({ action, args: makeArgs(acc) }, pinBound));
        return;
      }
      const arg = action.args[i];
      for (const v of domain(w, action, arg, acc.vm ?? 0)) expand(i + 1, { ...acc, [arg]: v });
    };
    expand(0, {});
  }
  return steps;
}
