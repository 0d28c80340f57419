/** The result pipeline: HostResult stream -> dates -> usernames -> formatter -> (atomic) file, manifest. */
export type { HostResult, HostState, HostStatus, Row } from './types.js';
export { ResultPipeline, statusOf, answerStatus, usernameWarningLines, type PipelineInit, type PipelineSummary } from './pipeline.js';
export { resolveResultOptions, formatFromPath, enrichesByDefault, type ResultFlags, type ResultOptions } from './options.js';
export { planColumns, usernameColumnFor, type ColumnPlan, type TimeColumn } from './plan.js';
export { convertTimes, Enricher, type ColumnLayout, type ColumnReport, type EnrichOptions, type TimeOptions } from './enrich.js';
export { UserDirectory, UsernameJoin, UNSET_UID, USERNAME_SEPARATOR, USERS_SQL, type UsernameWarnings } from './usernames.js';
export {
  canonicalTimeZone,
  convertTime,
  convertTimeValue,
  parseTimeZone,
  toInstant,
  TimeZoneError,
  RAW_REASONS,
  type RawReason,
  createDateFormatter,
  isPlausibleDate,
  systemTimeZone,
  TIME_FORMATS,
  type DateFormatter,
  type TimeFormat,
} from './time.js';
export { createResultWriter, ndjsonLine, RESULT_FORMATS, type ResultFormat, type ResultWriter, type WriterOptions } from './format/index.js';
export { atomicFile, openOutput, OutputError, type AtomicFile, type OutputOptions } from './atomic.js';
export { writeManifest, readManifest, hostsForManifest, manifestHost, safeAddress, StreamedHosts, MANIFEST_VERSION, type Manifest, type ManifestOut } from './manifest.js';
export { StatusTable, mergeStatus, byHost, STATUSES_IN_MEMORY, type StatusSource, type StatusTableOptions } from './statuses.js';
export { readHostResults, parseResultLine, lines, LineTooLongError, type BadLine, type ReadOptions } from './read.js';
export { TargetCheck, type TargetSet, type CountedHost, type TargetsUnverified, type AnswerHost } from './untargeted.js';
