import { createDetection, detectionSettings, listedBy } from "../core/detection/index.ts";
import { RuleSet } from "../core/decisions.ts";
import { openBunSqlite } from "../store/bun-sqlite.ts";
import { openDetectionStore } from "../store/detection-store.ts";
import { defaultDbPath } from "../store/sqlite-store.ts";
import { withStore } from "./data.ts";
import { type CliIo, type Command, DATA_OPTIONS, parseCommandArgs, printRows } from "./io.ts";

const DETECT_OPTIONS = { ...DATA_OPTIONS, "dry-run": { type: "boolean" }, json: { type: "boolean" } } as const;

/** `ipward detect [--dry-run] [--json]`: one scheduled detection pass now, with the configured policy. */
export const detectCommand: Command = {
  name: "detect",
  summary: "run scheduled detection now and print the findings",
  usage: "ipward detect [--dry-run] [--json] [--data-dir DIR]",
  async run(args: string[], io: CliIo) {
    const { values } = parseCommandArgs("detect", args, DETECT_OPTIONS);
    return withStore(values, io, async (store, config) => {
      const detectionStore = openDetectionStore(defaultDbPath(config.data_dir), { driver: openBunSqlite });
      try {
        const detection = createDetection({
          settings: detectionSettings(config.detection),
          store: detectionStore,
          decisions: store,
          ...listedBy(new RuleSet(store)),
          dryRun: values["dry-run"] === true ? true : undefined,
        });
        const run = await detection.runScheduled();
        const rows = run.actions.map((a) => ({ ip: a.ip, rule: a.rule, reason: a.reason, count: a.count, action: a.action, dry_run: a.dryRun, message: a.message }));
        if (values.json) io.stdout(`${JSON.stringify(rows, null, 2)}\n`);
        else if (rows.length === 0) io.stdout(`no findings in ${run.rowsRead} log rows\n`);
        else printRows(io, rows, false, ["ip", "rule", "count", "action", "reason"]);
        if (!values.json) for (const action of run.actions) if (action.dryRun) io.stdout(`${action.message}\n`);
        return 0;
      } finally {
        detectionStore.close();
      }
    });
  },
};
