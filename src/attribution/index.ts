export { ActivityIndex, ACTIVITY_TYPES, type ActivityEvent, type View } from './activity.js';
export { attributeConversion, resolveVisitors, type Attribution, type ConversionInput, type EngineContext, type Outcome } from './engine.js';
export { explain } from './explain.js';
export { goalAt, indexGoalsByName } from './goals.js';
export { REASONS, REASON_CODES, type ReasonCode } from './reasons.js';
export { AttributionRunner, loadWorkspace, toStored, type Loaded, type RunSummary } from './runner.js';
export { lastAtOrBefore, sessionize, sessionOf, type SessionRules, type Sessions } from './sessions.js';
export { optimizationResults, ResultsError, type ResultsAnswer, type ResultsQuery } from './results.js';
export { AttributionScheduler, nextCronRun, type ScheduledRun } from './scheduler.js';
