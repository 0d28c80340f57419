// better-sqlite3 where its native binding cannot load (test/helpers/no-sqlite.mjs): the package
// loads, and opening a database throws what the real one throws.
module.exports = class Database {
  constructor() {
    require('./no-sqlite-binding.cjs');
  }
};
