// better-sqlite3's native binding where it cannot load (test/helpers/no-sqlite.mjs): loading it
// throws what loading the real one throws where it is missing.
throw new Error('Could not locate the bindings file. Tried:\n → /x/build/Release/better_sqlite3.node');
