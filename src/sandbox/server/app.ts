/**
 * The app API routes (under /api/v1/kolide or /api/{v1,latest,2022-04}/fleet), per dialect: one
 * module per resource under `routes/`, each registering its routes on the shared context.
 */
import { Router } from './router.js';
import { campaignRoutes } from './routes/campaigns.js';
import { configRoutes } from './routes/config.js';
import { appContext, type AppDeps } from './routes/context.js';
import { hostRoutes } from './routes/hosts.js';
import { labelRoutes } from './routes/labels.js';
import { packRoutes } from './routes/packs.js';
import { queryRoutes } from './routes/queries.js';
import { restLiveRoutes } from './routes/rest-live.js';
import { sessionRoutes } from './routes/session.js';

export type { AppDeps } from './routes/context.js';
export { fleetPasswordOk } from './routes/session.js';

export function appRouter(deps: AppDeps): Router {
  const r = new Router();
  const ctx = appContext(deps, r);
  // The first route that matches a request wins, so the order is kept: GET /queries/:id (queries)
  // is tried before GET /queries/run (REST live queries), /hosts/count before /hosts/:id.
  sessionRoutes(ctx);
  configRoutes(ctx);
  queryRoutes(ctx);
  packRoutes(ctx);
  labelRoutes(ctx);
  hostRoutes(ctx);
  campaignRoutes(ctx);
  restLiveRoutes(ctx);
  return r;
}
