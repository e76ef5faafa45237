// db_sqlite on Bun: bun:sqlite, Bun's own SQLite. Loaded on the first sqlite://
// connection only. Integers come as bigint (safeIntegers), so that the engine tells
// 2 from 2.0 as on the other runtimes; statements are prepared and finalized per
// query (Database.query would cache every distinct text for the life of the process).
import type { SqliteBinding, SqliteDatabase } from "../src/modules/sql-drivers.ts";

export async function sqliteBinding(): Promise<SqliteBinding> {
  const { Database } = await import("bun:sqlite");
  return {
    name: "bun:sqlite",
    open(path, { readonly }): SqliteDatabase {
      const db = new Database(path, readonly ? { readonly: true, safeIntegers: true } : { readwrite: true, create: true, safeIntegers: true });
      return {
        run(sql, params) {
          const statement = db.prepare(sql);
          try {
            const columns = statement.columnNames;
            if (columns.length > 0) return { columns, rows: statement.values(...(params as never[])), changes: 0 };
            return { columns: [], rows: [], changes: Number(statement.run(...(params as never[])).changes) };
          } finally {
            statement.finalize();
          }
        },
        close: () => db.close(),
      };
    },
  };
}
