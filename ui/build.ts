/**
 * Bundles the admin UI for the browser: ui/main.ts (Lit app, minified, content-hashed names), its
 * stylesheet and the icon. Runs on the server, never in the browser.
 *
 * From a checkout the server calls `buildUi()` and keeps the result in memory. For the single binary,
 * build.ts calls `embeddedUiPlugin()`: it writes the same files to dist/ui/ and swaps this module, in
 * the compiled program only, for a generated one whose `buildUi()` returns those files embedded with
 * `type: "file"` imports. Both paths hand the server the same `UiBundle`.
 */
import type { BunPlugin } from "bun";
import { mkdirSync, rmSync } from "node:fs";
import { basename, join } from "node:path";

/** One file the UI serves under `<prefix>/assets/`. */
export interface UiFile {
  /** File name, content-hashed (e.g. `main-3fa9c1d2.js`). */
  name: string;
  /** Content-Type to serve it with. */
  type: string;
  body: Blob;
}

/** The built UI: its files, and which of them index.html links. */
export interface UiBundle {
  files: UiFile[];
  script: string;
  stylesheets: string[];
  icon: string;
}

// import.meta.dirname, not Bun's import.meta.dir: the Deno entry loads this module too.
const ENTRY = join(import.meta.dirname, "main.ts");
const ICON = join(import.meta.dirname, "icon.svg");

const CONTENT_TYPES: Record<string, string> = {
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  svg: "image/svg+xml",
};

/** Bundles ui/main.ts in memory with Bun.build (browser target, minified, no source maps). */
export async function buildUi(): Promise<UiBundle> {
  if (typeof Bun === "undefined") throw new Error("it is bundled by Bun.build, so serving it needs ipward running on Bun (from source or the binary)");
  const result = await Bun.build({
    entrypoints: [ENTRY],
    target: "browser",
    format: "esm",
    minify: true,
    sourcemap: "none",
    naming: { entry: "[name]-[hash].[ext]", chunk: "[name]-[hash].[ext]", asset: "[name]-[hash].[ext]" },
    define: { "process.env.NODE_ENV": '"production"' },
  });
  if (!result.success) {
    throw new Error(`building the admin UI failed:\n${result.logs.map(String).join("\n")}`);
  }
  const files: UiFile[] = result.outputs.map((output) => {
    const name = basename(output.path);
    return { name, type: contentType(name), body: output };
  });
  const iconBody = Bun.file(ICON);
  const icon = `icon-${Bun.hash(await iconBody.arrayBuffer()).toString(16).slice(0, 8)}.svg`;
  files.push({ name: icon, type: contentType(icon), body: iconBody });

  const script = result.outputs.find((output) => output.kind === "entry-point")?.path;
  if (!script) throw new Error("building the admin UI produced no script");
  return {
    files,
    script: basename(script),
    stylesheets: files.filter((file) => file.name.endsWith(".css")).map((file) => file.name),
    icon,
  };
}

/**
 * Builds the UI into `outDir` and returns a Bun.build plugin that replaces this module, in the
 * compiled binary, with one serving those files from the executable.
 */
export async function embeddedUiPlugin(outDir: string): Promise<BunPlugin> {
  const bundle = await buildUi();
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  for (const file of bundle.files) await Bun.write(join(outDir, file.name), file.body);

  const source = embeddedModuleSource(bundle, outDir);
  return {
    name: "ipward-embedded-ui",
    setup(build) {
      const thisModule = new RegExp(`^${import.meta.filename.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`);
      build.onLoad({ filter: thisModule }, function embeddedUiModule() {
        return { contents: source, loader: "ts" };
      });
    },
  };
}

/** The module that stands in for this one inside the binary: every file imported with `type: "file"`. */
function embeddedModuleSource(bundle: UiBundle, dir: string): string {
  const imports = bundle.files.map((file, i) => `import file${i} from ${JSON.stringify(join(dir, file.name))} with { type: "file" };`);
  const entries = bundle.files.map(
    (file, i) => `{ name: ${JSON.stringify(file.name)}, type: ${JSON.stringify(file.type)}, body: Bun.file(file${i}) }`,
  );
  return `${imports.join("\n")}
/** The admin UI as built by build.ts, embedded in this executable. */
export async function buildUi() {
  return {
    files: [${entries.join(", ")}],
    script: ${JSON.stringify(bundle.script)},
    stylesheets: ${JSON.stringify(bundle.stylesheets)},
    icon: ${JSON.stringify(bundle.icon)},
  };
}
`;
}

function contentType(name: string): string {
  return CONTENT_TYPES[name.slice(name.lastIndexOf(".") + 1)] ?? "application/octet-stream";
}
