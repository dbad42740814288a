export { AdminService, type AdminHooks } from './service.js';
export * from './schemas.js';
export { goalView, keyView, optimizationView, rejectionView, workspaceView } from './views.js';
export { replayRejections, type ReplayResult } from './replay.js';
export { ensureAdminToken } from './admin-token.js';
