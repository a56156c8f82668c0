// Return strings of interface.md: "0", a negative errno spelled as the kernel spells it, or
// PANIC where the kernel path would hit a BUG_ON / WARN_ON at EL2 (semantics 5c).

export const RETURNS = [
  "0",
  "-EPERM",
  "-ENOENT",
  "-EINVAL",
  "-ENOMEM",
  "-EBUSY",
  "-EFAULT",
  "-E2BIG",
  "-EEXIST",
  "-EAGAIN",
  "-EHWPOISON",
  "-ERANGE",
  "PANIC",
] as const;

export type Ret = (typeof RETURNS)[number];

export const OK: Ret = "0";
export const EPERM: Ret = "-EPERM";
export const ENOENT: Ret = "-ENOENT";
export const EINVAL: Ret = "-EINVAL";
export const ENOMEM: Ret = "-ENOMEM";
export const EBUSY: Ret = "-EBUSY";
export const EFAULT: Ret = "-EFAULT";
export const E2BIG: Ret = "-E2BIG";
export const EAGAIN: Ret = "-EAGAIN";
export const EHWPOISON: Ret = "-EHWPOISON";
export const ERANGE: Ret = "-ERANGE";
export const PANIC: Ret = "PANIC";
