/** The environment a run sees (process.env for real runs, a plain object in tests). */
export type Env = Readonly<Record<string, string | undefined>>;
