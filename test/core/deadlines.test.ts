import { describe, expect, test } from "bun:test";
import { Deadlines } from "../../src/core/deadlines.ts";

const keys = (deadlines: Deadlines, names: string[]) => names.filter((name) => deadlines.get(name) !== undefined);

describe("Deadlines", () => {
  test("remembers each key's time until the map is full", () => {
    const deadlines = new Deadlines(3);
    deadlines.set("a", 100, 0);
    deadlines.set("b", 200, 0);
    deadlines.set("a", 300, 0);
    expect(deadlines.get("a")).toBe(300);
    expect(deadlines.get("b")).toBe(200);
    expect(deadlines.get("c")).toBeUndefined();
    deadlines.delete("a");
    expect(deadlines.size).toBe(1);
  });

  test("a full map drops the keys whose time has passed first", () => {
    const deadlines = new Deadlines(4);
    deadlines.set("old", 1_000, 0);
    deadlines.set("passed", 50, 0);
    deadlines.set("also passed", 60, 0);
    deadlines.set("newest", 1_000, 0);
    deadlines.set("new", 1_000, 100);
    expect(keys(deadlines, ["old", "passed", "also passed", "newest", "new"])).toEqual(["old", "newest", "new"]);
  });

  test("with nothing passed, the oldest inserted go, down to nine tenths, so a sweep comes once per tenth of the capacity", () => {
    const deadlines = new Deadlines(100);
    const names = Array.from({ length: 120 }, (_, i) => `k${i}`);
    for (const name of names.slice(0, 100)) deadlines.set(name, 1_000, 0);
    deadlines.set("k100", 1_000, 0);
    expect(deadlines.size).toBe(91);
    expect(keys(deadlines, names).slice(0, 2)).toEqual(["k10", "k11"]);
    for (const name of names.slice(101, 110)) deadlines.set(name, 1_000, 0);
    expect(deadlines.size).toBe(100);
    expect(deadlines.get("k10")).toBe(1_000);
    deadlines.set("k110", 1_000, 0);
    expect(deadlines.size).toBe(91);
    expect(deadlines.get("k19")).toBeUndefined();
    expect(deadlines.get("k20")).toBe(1_000);
  });

  test("updating a key of a full map evicts nothing", () => {
    const deadlines = new Deadlines(2);
    deadlines.set("a", 100, 0);
    deadlines.set("b", 100, 0);
    deadlines.set("a", 500, 0);
    expect(keys(deadlines, ["a", "b"])).toEqual(["a", "b"]);
  });
});
