// Host <-> secure world: __pkvm_host_share_ffa, __pkvm_host_unshare_ffa, reached through the
// FF-A proxy. The kernel records nothing on the FF-A side; the model keeps a ghost mark.

import type { Args } from "./args.js";
import { EINVAL, EPERM, OK, type Ret } from "./errno.js";
import type { Pkvm } from "./pkvm.js";
import { PageState } from "./state.js";

/** __pkvm_host_share_ffa(pfn, nr_pages) */
export function host_share_ffa(k: Pkvm, { pfn, nr_pages }: Args): Ret {
  if (!k.pfnRangeIsValid(pfn, nr_pages)) return EINVAL;
  const ret = k.hostCheckPageStateRange(pfn, nr_pages, PageState.OWNED);
  if (ret !== OK) return ret;

  for (let p = pfn; p < pfn + nr_pages; p++) {
    k.setHostState(p, PageState.SHARED_OWNED);
    k.setFfaShared(p, true);
  }
  return OK;
}

/**
 * __pkvm_host_unshare_ffa(pfn, nr_pages). The kernel checks only host SO and relies on the proxy
 * to pass ranges the secure world reports as shared: the proxy's refusal comes first.
 */
export function host_unshare_ffa(k: Pkvm, { pfn, nr_pages }: Args): Ret {
  for (let p = pfn; p < pfn + nr_pages; p++) if (p >= k.w.pages || !k.ffaShared(p)) return EPERM;
  if (!k.pfnRangeIsValid(pfn, nr_pages)) return EINVAL;
  const ret = k.hostCheckPageStateRange(pfn, nr_pages, PageState.SHARED_OWNED);
  if (ret !== OK) return ret;

  for (let p = pfn; p < pfn + nr_pages; p++) {
    k.setHostState(p, PageState.OWNED);
    k.setFfaShared(p, false);
  }
  return OK;
}
