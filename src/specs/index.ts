/** The spec side of osfleet: parse, validate, lint, plan and convert. Pure except `loadInputs` (injected IO). */
export * from './types.js';
export { diag, formatDiagnostic, hasErrors, countBySeverity, sortDiagnostics, dedupeDiagnostics } from './diagnostics.js';
export { parseDocuments } from './parse.js';
export { makeSourceFile } from './yaml-doc.js';
export { FLEET_QUERY_PLATFORMS, MAX_INTERVAL } from './kinds.js';
export { validate, toSpecSet, BUILTIN_LABELS, isBuiltinLabel, type ValidateOptions } from './validate.js';
export { loadInputs, nodeLoadIO, decodeUtf8, STDIN_SOURCE, type LoadIO, type LoadResult } from './load.js';
export { convertPack, type ConvertResult } from './convert.js';
export { mapOsqueryPlatform } from './platforms.js';
export { preprocessPack, findJsonError } from './pack-json.js';
export { renderDoc, renderSpecSet, toAgentOptions, fromAgentOptions, AGENT_OPTIONS_NOTE } from './render.js';
export { lint, lintSources, osqueryPlatforms, hasFilePaths, sqlPos, MIN_INTERVAL, type LintEnv, type LintReport } from './lint.js';
export { createSqlChecker, OSQUERY_FUNCTIONS, type SchemaPort, type SqlChecker, type SqlCheckResult, type SqlIssue } from './sql-check.js';
export { plan, renderPlan, canonical, changedPaths, secretChanges, normaliseQuery, normaliseLabel, normalisePack, normaliseOptions, PLAN_ORDER, type Plan, type KindPlan, type PlanKind, type PlanOptions } from './plan.js';
