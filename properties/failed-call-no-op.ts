// Invariant 13: a step that returns anything but "0" (an errno, or PANIC) changes nothing: every
// check comes before the first mutation. One exception, from the kernel's error paths: a failed
// init_vm / init_vcpu has already donated its page to the hyp and hands it back, zeroed; so
// that page's words may differ, and only to end host OWNED, zeroed, hyp NOPAGE and reachable.

import type { Step } from "../model/actions.js";
import type { Ret } from "../model/errno.js";
import { Contents, PageState, type PkvmState } from "../model/state.js";
import { PAGE_WORDS } from "../model/world.js";
import { comparedWords, contentsName, hostAccessible, stateName } from "./lib/pages.js";
import { wordName } from "./lib/words.js";
import { finding, type Finding, type Property } from "./property.js";

const HANDS_BACK = new Set(["init_vm", "init_vcpu"]);

/** Why the page a failed init_vm / init_vcpu donated did not come back as it must, or null. */
function handedBackProblem(pre: PkvmState, post: PkvmState, p: number): string | null {
  if (pre.hostState(p) !== PageState.OWNED) return `was host ${stateName(pre.hostState(p))}, not the host's to donate`;
  if (post.hostState(p) !== PageState.OWNED) return `host ${stateName(post.hostState(p))}`;
  if (post.hypState(p) !== PageState.NOPAGE || post.hypS1Mapped(p)) return `hyp ${stateName(post.hypState(p))}${post.hypS1Mapped(p) ? ", mapped at EL2" : ""}`;
  if (post.contents(p) !== Contents.ZERO) return `not zeroed (${contentsName(post.contents(p))})`;
  if (!hostAccessible(post, p)) return "still annotated";
  return null;
}

/** The first word that differs outside [skipFrom, skipTo); `only`: the words to compare, else all. */
function firstChange(pre: Uint32Array, post: Uint32Array, skipFrom: number, skipTo: number, only: Int32Array | null = null): number {
  const n = only ? only.length : pre.length;
  for (let j = 0; j < n; j++) {
    const i = only ? only[j] : j;
    if (pre[i] !== post[i] && (i < skipFrom || i >= skipTo)) return i;
  }
  return -1;
}

function changed(pre: PkvmState, step: Step, ret: Ret, post: PkvmState): Finding | null {
  const hands = HANDS_BACK.has(step.action.name) && step.args.pfn < pre.w.pages;
  const from = hands ? 1 + step.args.pfn * PAGE_WORDS : 0;
  const to = hands ? from + PAGE_WORDS : 0;
  const i = firstChange(pre.s, post.s, from, to, comparedWords());
  if (i >= 0) {
    const { text, ...where } = wordName(pre.w, i);
    return finding(`${text}: changed by ${step.action.name}, which returned ${ret}`, where);
  }
  if (!hands || firstChange(pre.s.subarray(from, to), post.s.subarray(from, to), 0, 0) < 0) return null;
  const p = step.args.pfn;
  const problem = handedBackProblem(pre, post, p);
  return problem ? finding(`pfn ${p}: ${step.action.name} returned ${ret}; its donated page came back wrong: ${problem}`, { pages: [p] }) : null;
}

const property: Property = {
  id: "failed-call-no-op",
  description: "a step that fails (errno or PANIC) changes no state, but a failed init_vm / init_vcpu hands its page back zeroed",
  invariant: 13,
  checkStep(pre, step, ret, post) {
    return ret === "0" ? null : changed(pre, step, ret, post);
  },
};

export default property;
