export { AdminService, type AdminHooks } from './service.js';
export * from './schemas.js';
export { goalView, keyView, optimizationView, rejectionView, workspaceView } from './views.js';
export { replayRejections, type ReplayResult } from './replay.js';
export { ensureAdminToken } from './admin-token.js';
export { resultsSeries, ResultsSeriesQuerySchema, MAX_SERIES_POINTS, type ResultsSeriesQuery, type SeriesPoint } from './results-series.js';
export { curlExamples, installGuide, snippetTag, InstallQuerySchema, SERVER_KEY_PLACEHOLDER, BROWSER_KEY_PLACEHOLDER } from './install.js';
