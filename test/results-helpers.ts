export * from '../src/results/index.js';
export { identityLayout as identityLayoutForTest } from '../src/results/enrich.js';
