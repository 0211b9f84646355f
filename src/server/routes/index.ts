// The whole route table of the API, one module per resource.

import type { RouteContext } from '../backend.ts';
import type { ApiRoute } from '../routes.ts';
import { accountRoutes } from './accounts.ts';
import { agentRoutes } from './agent.ts';
import { buildRoutes } from './builds.ts';
import { deploymentRoutes } from './deployments.ts';
import { eventRoutes } from './events.ts';
import { imageRoutes } from './images.ts';
import { machineRoutes } from './machines.ts';
import { metaRoutes } from './meta.ts';
import { storeRoutes } from './store.ts';
import { uploadRoutes } from './uploads.ts';

export function apiRoutes(context: RouteContext): ApiRoute[] {
  return [
    ...metaRoutes(context),
    ...uploadRoutes(context),
    ...imageRoutes(context),
    ...storeRoutes(context),
    ...accountRoutes(context),
    ...machineRoutes(context),
    ...deploymentRoutes(context),
    ...buildRoutes(context),
    ...agentRoutes(context),
    ...eventRoutes(context),
  ];
}
