#!/usr/bin/env node
// The `pkvm-check` command line. Each command lives in src/commands/; this file only wires them
// and turns every failure into the exit codes of interface.md: usage and input errors are one
// line on stderr and exit 2, anything unexpected is an internal error, exit 3. A file that cannot
// be written once the work is done (a full disk) is said as it is, and does not hide a failing
// verdict: exit 1 stays 1, else 3.

import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { InputError } from "../model/config.js";
import { checkCommand } from "./commands/check.js";
import { EXIT } from "./commands/exit.js";
import { protectOperands } from "./commands/operands.js";
import { exportCommand } from "./commands/export.js";
import { faultsCommand } from "./commands/faults.js";
import { listCommand } from "./commands/list.js";
import { replayCommand } from "./commands/replay.js";
import { reportCommand } from "./commands/report.js";
import { installSignalHandlers } from "./io/interrupt.js";
import { WriteError } from "./io/write-file.js";
import { DEFAULT_MAX_INPUT_BYTES, setMaxInputBytes } from "./input-file.js";

function oneLine(message: string): string {
  return message.trim().replace(/\s*\n\s*/g, "; ");
}

installSignalHandlers();
const operands = protectOperands(hideBin(process.argv));
try {
  await yargs(operands.args)
    .scriptName("pkvm-check")
    .option("max-input-bytes", {
      type: "number",
      global: true,
      default: DEFAULT_MAX_INPUT_BYTES,
      describe: "refuse trace, config and baseline files larger than this",
    })
    .middleware((argv) => {
      operands.restore(argv);
      setMaxInputBytes(argv["max-input-bytes"]);
    })
    .command(checkCommand)
    .command(replayCommand)
    .command(listCommand)
    .command(exportCommand)
    .command(reportCommand)
    .command(faultsCommand)
    .demandCommand(1, "expected a command (see --help)")
    .strict()
    // A usage error comes with a message only; an error thrown by a command comes as itself.
    .fail((msg, err) => {
      throw err ?? new InputError(operands.restoreText(msg));
    })
    .help()
    .parseAsync();
} catch (e) {
  const input = e instanceof InputError;
  const message = e instanceof Error ? e.message : String(e);
  process.stderr.write(`pkvm-check: ${input || e instanceof WriteError ? "" : "internal error: "}${oneLine(message)}\n`);
  process.exitCode = input ? EXIT.INPUT : e instanceof WriteError && process.exitCode === EXIT.FAILED ? EXIT.FAILED : EXIT.INTERNAL;
}
// z3's WebAssembly keeps worker threads alive after the smt engine is done: end here. Writes to
// pipes and files are synchronous on Linux, so nothing printed is lost.
process.exit(process.exitCode ?? EXIT.OK);
