// Host <-> hyp transitions: __pkvm_host_share_hyp, __pkvm_host_unshare_hyp,
// __pkvm_host_donate_hyp, __pkvm_hyp_donate_host, hyp_pin_shared_mem, hyp_unpin_shared_mem.
// Each is checks in the kernel's order, then effects that cannot fail.

import type { Args } from "./args.js";
import { EBUSY, EINVAL, OK, PANIC, type Ret } from "./errno.js";
import type { Pkvm } from "./pkvm.js";
import { PageState, REFCOUNT_MAX } from "./state.js";

const { NOPAGE, OWNED, SHARED_OWNED, SHARED_BORROWED } = PageState;

/** __pkvm_host_share_hyp(pfn) */
export function host_share_hyp(k: Pkvm, { pfn }: Args): Ret {
  let ret = k.hostCheckPageStateRange(pfn, 1, OWNED);
  if (ret !== OK) return ret;
  ret = k.hypCheckPageStateRange(pfn, 1, NOPAGE);
  if (ret !== OK) return ret;

  k.setHostState(pfn, SHARED_OWNED);
  k.setHypState(pfn, SHARED_BORROWED); // mapped at EL2 only while pinned
  return OK;
}

/** __pkvm_host_unshare_hyp(pfn) */
export function host_unshare_hyp(k: Pkvm, { pfn }: Args): Ret {
  let ret = k.hostCheckPageStateRange(pfn, 1, SHARED_OWNED);
  if (ret !== OK) return ret;
  ret = k.hypCheckPageStateRange(pfn, 1, SHARED_BORROWED);
  if (ret !== OK) return ret;
  if (k.refcount(pfn) !== 0) return EBUSY;

  k.setHypState(pfn, NOPAGE);
  k.setHostState(pfn, OWNED);
  return OK;
}

/** __pkvm_host_donate_hyp(pfn, nr_pages) */
export function host_donate_hyp(k: Pkvm, { pfn, nr_pages }: Args): Ret {
  if (!k.pfnRangeIsValid(pfn, nr_pages)) return EINVAL;
  let ret = k.hostCheckPageStateRange(pfn, nr_pages, OWNED);
  if (ret !== OK) return ret;
  ret = k.hypCheckPageStateRange(pfn, nr_pages, NOPAGE);
  if (ret !== OK) return ret;

  k.doHostDonateHyp(pfn, nr_pages);
  return OK;
}

/** __pkvm_hyp_donate_host(pfn, nr_pages): does not zero, its callers must. */
export function hyp_donate_host(k: Pkvm, { pfn, nr_pages }: Args): Ret {
  if (!k.pfnRangeIsValid(pfn, nr_pages)) return EINVAL;
  let ret = k.hypCheckPageStateRange(pfn, nr_pages, OWNED);
  if (ret !== OK) return ret;
  ret = k.hostCheckPageStateRange(pfn, nr_pages, NOPAGE);
  if (ret !== OK) return ret;
  for (let p = pfn; p < pfn + nr_pages; p++) if (k.refcount(p) !== 0) return EBUSY;

  k.doHypDonateHost(pfn, nr_pages);
  return OK;
}

/** hyp_pin_shared_mem(from, to): the hyp maps a host-shared page while it holds a pin. */
export function hyp_pin_shared_mem(k: Pkvm, { pfn, nr_pages }: Args): Ret {
  let ret = k.hostCheckPageStateRange(pfn, nr_pages, SHARED_OWNED);
  if (ret !== OK) return ret;
  ret = k.hypCheckPageStateRange(pfn, nr_pages, SHARED_BORROWED);
  if (ret !== OK) return ret;
  for (let p = pfn; p < pfn + nr_pages; p++) if (k.refcount(p) === REFCOUNT_MAX) return PANIC; // hyp_page_ref_inc BUG_ON

  for (let p = pfn; p < pfn + nr_pages; p++) {
    k.setRefcount(p, k.refcount(p) + 1);
    k.setHypS1Mapped(p, true);
  }
  return OK;
}

/** hyp_unpin_shared_mem(from, to): void in the kernel; a refcount of 0 is a BUG_ON. */
export function hyp_unpin_shared_mem(k: Pkvm, { pfn, nr_pages }: Args): Ret {
  for (let p = pfn; p < pfn + nr_pages; p++) if (p >= k.w.pages || k.refcount(p) === 0) return PANIC;

  for (let p = pfn; p < pfn + nr_pages; p++) {
    k.setRefcount(p, k.refcount(p) - 1);
    if (k.refcount(p) === 0) k.setHypS1Mapped(p, false);
  }
  return OK;
}
