/**
 * The shape STYLE.md asks for, checked on the source: the core is runtime-agnostic, only the HTTP
 * layer knows Elysia, only the store knows the SQLite bindings, and the Deno entry never loads a
 * bun:* module.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { ROOT } from "./support/process.ts";

const SRC = join(ROOT, "src");
const sourceFiles = [...new Bun.Glob("**/*.ts").scanSync(SRC)].map((path) => join(SRC, path)).sort();
const transpiler = new Bun.Transpiler({ loader: "ts" });
const shown = (path: string) => relative(ROOT, path);

/** Every module specifier a file names, type-only imports included (`import type`, `export … from`). */
function allSpecifiers(source: string): string[] {
  const found: string[] = [];
  const patterns = [/\bfrom\s*["']([^"']+)["']/g, /\bimport\s*["']([^"']+)["']/g, /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g, /\brequire\s*\(\s*["']([^"']+)["']\s*\)/g];
  for (const pattern of patterns) for (const match of source.matchAll(pattern)) found.push(match[1]);
  return found;
}

/** The modules a file loads when it is evaluated: static imports and re-exports, without type-only ones. */
function loadedSpecifiers(source: string): string[] {
  return transpiler
    .scanImports(source)
    .filter((entry) => entry.kind === "import-statement")
    .map((entry) => entry.path);
}

/** The source with comments removed, so that words in documentation do not count as code. */
function code(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|\s)\/\/.*$/gm, "$1");
}

const isRuntimeModule = (specifier: string) => specifier === "bun" || specifier.startsWith("bun:") || specifier.startsWith("node:");
const isElysia = (specifier: string) => specifier === "elysia" || specifier.startsWith("elysia/") || specifier.startsWith("@elysiajs/");
const isSqliteBinding = (specifier: string) => specifier === "bun:sqlite" || specifier === "node:sqlite";
const under = (folder: string) => (path: string) => path.startsWith(join(SRC, folder) + "/");

describe("architecture", () => {
  test("the source tree is where these rules look", () => {
    expect(sourceFiles.length).toBeGreaterThan(20);
    expect(sourceFiles.filter(under("core")).length).toBeGreaterThan(5);
  });

  test("src/core imports no bun:*, node:*, elysia; it uses no Bun, Deno or process globals", () => {
    const violations: string[] = [];
    for (const path of sourceFiles.filter(under("core"))) {
      const source = readFileSync(path, "utf8");
      for (const specifier of allSpecifiers(source)) {
        if (isRuntimeModule(specifier) || isElysia(specifier)) violations.push(`${shown(path)} imports ${specifier}`);
      }
      for (const match of code(source).matchAll(/(?<![\w.$])(Bun|Deno|process)\s*[.[]/g)) {
        violations.push(`${shown(path)} uses the ${match[1]} global`);
      }
    }
    expect(violations).toEqual([]);
  });

  test("only src/http imports elysia", () => {
    const violations = sourceFiles
      .filter((path) => !under("http")(path))
      .flatMap((path) => allSpecifiers(readFileSync(path, "utf8")).filter(isElysia).map((specifier) => `${shown(path)} imports ${specifier}`));
    expect(violations).toEqual([]);
  });

  test("only src/store imports a SQLite binding", () => {
    const violations = sourceFiles
      .filter((path) => !under("store")(path))
      .flatMap((path) => allSpecifiers(readFileSync(path, "utf8")).filter(isSqliteBinding).map((specifier) => `${shown(path)} imports ${specifier}`));
    expect(violations).toEqual([]);
  });

  test("nothing src/deno.ts loads imports bun or bun:*, or reads Bun's import.meta.dir", () => {
    const seen = new Set<string>();
    const violations: string[] = [];
    const visit = (path: string, via: string[]) => {
      if (seen.has(path)) return;
      seen.add(path);
      const source = readFileSync(path, "utf8");
      // Deno has import.meta.dirname (so has Bun); import.meta.dir is Bun's alone.
      if (/\bimport\.meta\.dir\b/.test(code(source))) violations.push(`${[...via, shown(path)].join(" -> ")} reads import.meta.dir`);
      for (const specifier of loadedSpecifiers(source)) {
        if (specifier === "bun" || specifier.startsWith("bun:")) {
          violations.push(`${[...via, shown(path)].join(" -> ")} imports ${specifier}`);
        } else if (specifier.startsWith(".")) {
          const target = resolve(dirname(path), specifier);
          if (!existsSync(target)) throw new Error(`${shown(path)}: cannot resolve ${specifier}`);
          if (target.endsWith(".ts")) visit(target, [...via, shown(path)]);
        }
      }
    };
    visit(join(SRC, "deno.ts"), []);
    expect(seen.size).toBeGreaterThan(20);
    expect(violations).toEqual([]);
  });
});
