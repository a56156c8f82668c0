// `pkvm-check replay TRACE... [--json | --diff] [--watch PFN | VM:GFN]...`: every trace is read
// and validated before any is run, so that bad input (exit 2) prints nothing on stdout. The
// output is written as it is rendered: a million-step trace is never held as one string.

import type { CommandModule } from "yargs";
import { InputError } from "../../model/config.js";
import { World } from "../../model/world.js";
import { checkWatch, parseWatch, replayTextLines } from "../report/diff.js";
import { bufferedSink } from "../report/sink.js";
import { replay, replayJson } from "../replay.js";
import { modelOf } from "./output.js";
import { readTrace } from "../trace.js";
import { EXIT } from "./exit.js";

interface ReplayArgs {
  traces: string[];
  json: boolean;
  diff: boolean;
  watch?: string[];
  fault?: string;
}

export const replayCommand: CommandModule<object, ReplayArgs> = {
  command: "replay <traces..>",
  describe: "run trace files on the reference engine, checking every property and every expected return",
  builder: (y) =>
    y
      .positional("traces", { type: "string", array: true, demandOption: true, describe: "pkvm-trace/1 files" })
      .option("json", { type: "boolean", default: false, describe: "print one JSON document on stdout" })
      .option("diff", { type: "boolean", default: false, describe: "after each step, show only what it changed" })
      .option("watch", { type: "string", array: true, describe: "follow a page (PFN) or a guest frame (VM:GFN) through the trace" })
      .option("fault", { type: "string", describe: "replay under this seeded fault (pkvm-check faults --list); default: each trace's meta.fault, else the real model" }),
  handler: (argv) => {
    if (argv.json && (argv.diff || argv.watch)) throw new InputError("--diff and --watch are text views: not with --json");
    const watches = (argv.watch ?? []).map(parseWatch);
    const traces = argv.traces.map(readTrace);
    // Every watch is checked against every trace before anything is printed (exit 2 prints nothing).
    for (const t of traces) for (const w of watches) checkWatch(new World(t.config), w, t.file);
    const runs = traces.map((t) => ({ t, variant: modelOf(t, argv.fault), fault: argv.fault ?? t.meta?.fault }));
    const results = runs.map(({ t, variant }) => replay(t, { variant }));
    const out = bufferedSink();
    if (argv.json) replayJson(results, out.emit);
    else {
      results.forEach((r, i) => {
        if (i > 0) out.emit("\n");
        if (runs[i].fault !== undefined) out.emit(`under seeded fault ${runs[i].fault}\n`);
        replayTextLines(r, { diff: argv.diff, watches, variant: runs[i].variant }, (l) => out.emit(`${l}\n`));
      });
    }
    out.flush();
    process.exitCode = results.every((r) => r.ok) ? EXIT.OK : EXIT.FAILED;
  },
};
