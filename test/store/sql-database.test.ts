import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { SqlDatabase } from "../../src/store/sql-database.ts";
import { drivers, tempDir } from "./fixtures.ts";

describe.each(drivers)("SqlDatabase contract (%s)", (_name, driver) => {
  let temp: ReturnType<typeof tempDir>;
  let db: SqlDatabase;

  beforeEach(() => {
    temp = tempDir();
    db = driver(`${temp.dir}/contract.db`);
    db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, score REAL)");
  });
  afterEach(() => {
    db.close();
    temp.cleanup();
  });

  const names = () => db.prepare("SELECT name FROM t ORDER BY id").all<{ name: string }>().map((r) => r.name);

  test("run reports changes and the new rowid; get and all read rows; get of nothing is undefined", () => {
    const insert = db.prepare("INSERT INTO t (name, score) VALUES (?, ?)");
    expect(insert.run("a", 1.5)).toEqual({ changes: 1, lastInsertRowid: 1 });
    expect(insert.run("b", null)).toEqual({ changes: 1, lastInsertRowid: 2 });
    expect(db.prepare("SELECT name, score FROM t WHERE id = ?").get(1)).toEqual({ name: "a", score: 1.5 });
    expect(db.prepare("SELECT name, score FROM t WHERE id = ?").get(99)).toBeUndefined();
    expect(db.prepare("SELECT id, score FROM t ORDER BY id").all()).toEqual([
      { id: 1, score: 1.5 },
      { id: 2, score: null },
    ]);
    expect(db.prepare("UPDATE t SET score = 0").run().changes).toBe(2);
  });

  test("numbered parameters bind by position", () => {
    db.prepare("INSERT INTO t (name) VALUES (?1), (?1 || ?2)").run("x", "y");
    expect(names()).toEqual(["x", "xy"]);
  });

  test("a transaction commits together, or not at all when it throws", () => {
    const insert = db.prepare("INSERT INTO t (name) VALUES (?)");
    expect(db.transaction(() => insert.run("kept").changes)).toBe(1);
    expect(() =>
      db.transaction(() => {
        insert.run("lost");
        throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(names()).toEqual(["kept"]);
  });

  test("a nested transaction is a savepoint: its failure undoes only its own work", () => {
    const insert = db.prepare("INSERT INTO t (name) VALUES (?)");
    db.transaction(() => {
      insert.run("outer");
      expect(() =>
        db.transaction(() => {
          insert.run("inner");
          throw new Error("inner fails");
        }),
      ).toThrow("inner fails");
      db.transaction(() => insert.run("inner ok"));
    });
    expect(names()).toEqual(["outer", "inner ok"]);
  });

  test("after a failed statement the transaction is rolled back and the next one starts cleanly", () => {
    db.exec("CREATE TABLE u (v INTEGER NOT NULL)");
    expect(() => db.transaction(() => db.prepare("INSERT INTO u VALUES (NULL)").run())).toThrow();
    db.transaction(() => db.prepare("INSERT INTO u VALUES (1)").run());
    expect(db.prepare("SELECT count(*) AS n FROM u").get()).toEqual({ n: 1 });
  });
});
