// The routes of deployments and their profiles: profiles applied (YAML checked key by key, stored
// sealed), listed and shown with their passwords masked, removed; deployments made for a machine
// from a profile, listed a page at a time, shown, their agent's log read, cancelled and retried.
// Deploying, cancelling and retrying are image actions: the caller's scopes must reach the image
// deployed.
// A capture is a deployment that makes an image: its caller may deploy and push to the target.

import { AppError } from '../../core/errors.ts';
import { parseImageRef } from '../../core/names.ts';
import { authorize } from '../../auth/roles.ts';
import { PROFILE_SECRET_MASK } from '../../app/session.ts';
import { defineRoute, withoutUndefined, type ApiRoute } from '../routes.ts';
import type { RouteContext } from '../backend.ts';
import { DEPLOYMENT_PAGE_DEFAULT, DEPLOYMENT_PAGE_MAX } from '../../app/session.ts';
import { pageLimit } from '../page-limit.ts';
import {
  ApplyProfile,
  Deployment,
  DeploymentList,
  DeploymentPage,
  DeploymentQuery,
  LogLines,
  LogQuery,
  NewCapture,
  NewDeployment,
  NewMulticastDeployments,
  Profile,
  ProfileDetail,
  ProfileList,
} from '../schemas.ts';

const PROFILE_PARAM = { name: 'name', in: 'path', description: "the profile's name" } as const;
const DEPLOYMENT_PARAM = { name: 'id', in: 'path', description: "the deployment's id" } as const;

export function deploymentRoutes({ backend }: RouteContext): ApiRoute[] {
  const ofDeployment = (r: { params: Readonly<Record<string, string>> }) =>
    backend.deploymentImage({ deployment: r.params.id ?? '' });
  return [
    defineRoute({
      method: 'GET',
      path: '/api/v1/profiles',
      summary: 'the deployment profiles, by name, each with a summary',
      action: 'machines.read',
      ok: { status: 200, description: 'the profiles', json: ProfileList },
      handler: async (r) => ({ profiles: await backend.as(r.actor).profiles.list() }),
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/profiles',
      summary:
        "check a profile's YAML and store it under its name (replacing one of that name; a password written as the mask keeps the stored one)",
      action: 'profiles.write',
      body: { json: ApplyProfile, maxBytes: 2 * 256 * 1024 },
      ok: { status: 200, description: 'the profile stored', json: Profile },
      handler: (r) => backend.as(r.actor).profiles.apply(r.body.yaml, r.body.file ?? 'profile.yaml'),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/profiles/{name}',
      summary: 'one profile with its YAML, passwords masked',
      action: 'machines.read',
      parameters: [PROFILE_PARAM],
      ok: { status: 200, description: 'the profile', json: ProfileDetail },
      handler: (r) => backend.as(r.actor).profiles.show(r.params.name ?? ''),
    }),
    defineRoute({
      method: 'PUT',
      path: '/api/v1/profiles/{name}',
      summary: `edit a profile: its YAML checked as POST checks it, naming this profile; a password written as the mask (${PROFILE_SECRET_MASK}) keeps the stored one`,
      action: 'profiles.write',
      parameters: [PROFILE_PARAM],
      body: { json: ApplyProfile, maxBytes: 2 * 256 * 1024 },
      ok: { status: 200, description: 'the profile stored', json: Profile },
      handler: (r) =>
        backend
          .as(r.actor)
          .profiles.edit(
            r.params.name ?? '',
            r.body.yaml,
            r.body.file ?? `${r.params.name ?? 'profile'}.yaml`,
          ),
    }),
    defineRoute({
      method: 'DELETE',
      path: '/api/v1/profiles/{name}',
      summary: 'remove a profile (deployments made from it keep what they were made with)',
      action: 'profiles.write',
      parameters: [PROFILE_PARAM],
      ok: { status: 204, description: 'removed' },
      async handler(r) {
        await backend.as(r.actor).profiles.remove(r.params.name ?? '');
        return r.c.body(null, 204);
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/deployments',
      summary: "the deployments, newest first, a page at a time; one machine's, or those under way",
      action: 'machines.read',
      query: DeploymentQuery,
      ok: {
        status: 200,
        description: 'a page of deployments and the cursor of the next one',
        json: DeploymentPage,
      },
      handler: (r) =>
        backend.as(r.actor).deployments.listPage({
          ...(r.query.machine === undefined ? {} : { machine: r.query.machine }),
          ...(r.query.active === undefined ? {} : { active: r.query.active === 'true' }),
          limit: pageLimit(r.query.limit, 'deployments', {
            default: DEPLOYMENT_PAGE_DEFAULT,
            max: DEPLOYMENT_PAGE_MAX,
          }),
          cursor: r.query.cursor ?? null,
        }),
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/deployments',
      summary:
        'deploy a profile (its image, or another NAME:TAG) to an approved machine: queued until the machine network-boots',
      action: 'deploy.run',
      body: { json: NewDeployment },
      image: (r) => backend.deploymentImage(withoutUndefined(r.body)),
      ok: { status: 201, description: 'the deployment, queued', json: Deployment },
      handler: (r) => backend.as(r.actor).deployments.create(withoutUndefined(r.body)),
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/captures',
      summary:
        "capture an approved machine's Windows into NAME:TAG (a deployment of kind capture): queued until the machine network-boots",
      action: 'deploy.run',
      body: { json: NewCapture },
      image: (r) => parseImageRef(r.body.tag).name,
      ok: { status: 201, description: 'the capture, queued', json: Deployment },
      handler(r) {
        const name = parseImageRef(r.body.tag).name;
        if (!authorize(r.principal, 'image.push', name)) {
          throw new AppError('FORBIDDEN', `user ${r.actor.user} may not image.push on ${name}`, {
            hint: 'a capture pushes its image: ask an admin for a role or scope that allows both',
          });
        }
        return backend.as(r.actor).deployments.capture(withoutUndefined(r.body));
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/deployments/multicast',
      summary:
        'deploy a profile to several approved machines, their image sent once by a multicast session named by group',
      action: 'deploy.run',
      body: { json: NewMulticastDeployments },
      image: (r) =>
        backend.deploymentImage(withoutUndefined({ profile: r.body.profile, image: r.body.image })),
      ok: { status: 201, description: 'the deployments, queued', json: DeploymentList },
      handler: async (r) => ({
        deployments: await backend.as(r.actor).deployments.createMulticast(withoutUndefined(r.body)),
      }),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/deployments/{id}',
      summary: 'one deployment: machine, image, state and when each came, progress, disk, error',
      action: 'machines.read',
      parameters: [DEPLOYMENT_PARAM],
      ok: { status: 200, description: 'the deployment', json: Deployment },
      handler: (r) => backend.as(r.actor).deployments.show(r.params.id ?? ''),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/deployments/{id}/logs',
      summary: "the agent's log lines, oldest first, after line `after`",
      action: 'machines.read',
      parameters: [DEPLOYMENT_PARAM],
      query: LogQuery,
      ok: { status: 200, description: 'the lines', json: LogLines },
      handler: async (r) => ({
        lines: await backend.as(r.actor).deployments.logs(r.params.id ?? '', Number(r.query.after ?? 0)),
      }),
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/deployments/{id}/cancel',
      summary: 'cancel a deployment not ended: its agent stops at its next call, the machine boots local',
      action: 'deploy.run',
      parameters: [DEPLOYMENT_PARAM],
      image: ofDeployment,
      ok: { status: 200, description: 'the deployment, cancelled', json: Deployment },
      handler: (r) => backend.as(r.actor).deployments.cancel(r.params.id ?? ''),
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/deployments/{id}/retry',
      summary: 'a new deployment like one that failed or was cancelled (same machine, profile, image)',
      action: 'deploy.run',
      parameters: [DEPLOYMENT_PARAM],
      image: ofDeployment,
      ok: { status: 201, description: 'the new deployment, queued', json: Deployment },
      handler: (r) => backend.as(r.actor).deployments.retry(r.params.id ?? ''),
    }),
  ];
}
