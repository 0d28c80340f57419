// better-sqlite3 as it is where its native binding cannot load (test/helpers/no-sqlite.mjs).
module.exports = class Database {
  constructor() {
    throw new Error('Could not locate the bindings file. Tried:\n → /x/build/Release/better_sqlite3.node');
  }
};
