// Exit codes of every command (interface.md).

export const EXIT = {
  /** All good. */
  OK: 0,
  /** A property violation, or a replayed step whose return differs from its `expect`. */
  FAILED: 1,
  /** Bad input or usage: one line on stderr names the file and the field. */
  INPUT: 2,
  /** The checker itself failed. */
  INTERNAL: 3,
} as const;
