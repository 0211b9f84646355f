// The routes of builds the server runs: started from a recipe's text (its host paths relative to the
// deployment share), listed, shown with their record, their log, the VM's serial log and latest
// screenshot read, cancelled and resumed. A build is an image action on its output: starting,
// cancelling and resuming it take image.build there (the service checks the caller reads a serviced
// source image); seeing it takes image.read there. A build a caller may not see is not found, so
// that its id alone tells nothing of its image.

import { AppError } from '../../core/errors.ts';
import { buildNotFound } from '../../app/builds.ts';
import { defineRoute, type ApiRoute } from '../routes.ts';
import type { RouteContext } from '../backend.ts';
import { Build, BuildList, LogLines, LogQuery, NewBuild, SerialLog, SerialQuery } from '../schemas.ts';

const BUILD_PARAM = { name: 'id', in: 'path', description: "the build's id" } as const;

/** A recipe's text: a recipe is a page of YAML, its scripts are files of the share. */
const MAX_RECIPE_BODY_BYTES = 1024 * 1024;

export function buildRoutes({ backend }: RouteContext): ApiRoute[] {
  const ofBuild = (r: { params: Readonly<Record<string, string>> }) => backend.buildImage(r.params.id ?? '');
  const hidden = (r: { params: Readonly<Record<string, string>> }) => buildNotFound(r.params.id ?? '');
  return [
    defineRoute({
      method: 'GET',
      path: '/api/v1/builds',
      summary: 'the builds whose output image the caller may read, newest first (500 at most)',
      action: 'image.read',
      ok: { status: 200, description: 'the builds', json: BuildList },
      handler: async (r) => ({ builds: await backend.as(r.actor).builds.list() }),
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/builds',
      summary:
        'check a build recipe (host paths in the deployment share; output.tag required) and queue its build, run as the caller',
      action: 'image.build',
      body: { json: NewBuild, maxBytes: MAX_RECIPE_BODY_BYTES },
      image(r) {
        const output = backend.buildRecipeOutput(r.body.recipe, r.body.file);
        if (output === null) {
          throw new AppError(
            'INVALID_ARGUMENT',
            `${r.body.file}: a build the server runs stores its result in the repository: output needs tag:`,
            { hint: 'give output.tag NAME:TAG' },
          );
        }
        return output;
      },
      ok: { status: 201, description: 'the build, queued', json: Build },
      handler: (r) => backend.as(r.actor).builds.start({ recipe: r.body.recipe, file: r.body.file }),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/builds/{id}',
      summary: 'one build: its state, who started it, its output, and its record (phases, steps, result)',
      action: 'image.read',
      parameters: [BUILD_PARAM],
      image: ofBuild,
      refusal: hidden,
      ok: { status: 200, description: 'the build', json: Build },
      handler: (r) => backend.as(r.actor).builds.show(r.params.id ?? ''),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/builds/{id}/logs',
      summary:
        "the build's log lines (phases, steps, what the guest reported), oldest first, after line `after`",
      action: 'image.read',
      parameters: [BUILD_PARAM],
      image: ofBuild,
      refusal: hidden,
      query: LogQuery,
      ok: { status: 200, description: 'the lines', json: LogLines },
      handler: async (r) => ({
        lines: await backend.as(r.actor).builds.logs(r.params.id ?? '', Number(r.query.after ?? 0)),
      }),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/builds/{id}/serial',
      summary: "the build VM's serial log from byte `offset`, 1 MiB at most, and the offset of what follows",
      action: 'image.read',
      parameters: [BUILD_PARAM],
      image: ofBuild,
      refusal: hidden,
      query: SerialQuery,
      ok: { status: 200, description: 'a part of the serial log', json: SerialLog },
      handler: (r) => backend.as(r.actor).builds.serial(r.params.id ?? '', Number(r.query.offset ?? 0)),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/builds/{id}/screenshot',
      summary: "the build VM's latest screenshot (saved every few seconds while it runs, and when it fails)",
      action: 'image.read',
      parameters: [BUILD_PARAM],
      image: ofBuild,
      refusal: hidden,
      ok: { status: 200, contentType: 'image/png', description: 'a PNG' },
      async handler(r) {
        const png = await backend.as(r.actor).builds.screenshot(r.params.id ?? '');
        return r.c.body(new Uint8Array(png), 200, {
          'content-type': 'image/png',
          'cache-control': 'no-store',
        });
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/builds/{id}/cancel',
      summary: 'cancel a queued build, or stop a running one (its folder is kept: it can be resumed)',
      action: 'image.build',
      parameters: [BUILD_PARAM],
      image: ofBuild,
      ok: { status: 200, description: 'the build, cancelled', json: Build },
      handler: (r) => backend.as(r.actor).builds.cancel(r.params.id ?? ''),
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/builds/{id}/resume',
      summary:
        'queue a failed or cancelled build again: it goes on from its last finished phase, as the caller',
      action: 'image.build',
      parameters: [BUILD_PARAM],
      image: ofBuild,
      ok: { status: 200, description: 'the build, queued', json: Build },
      handler: (r) => backend.as(r.actor).builds.resume(r.params.id ?? ''),
    }),
    defineRoute({
      method: 'DELETE',
      path: '/api/v1/builds/{id}',
      summary:
        "remove a build that is over (done, failed or cancelled), with its folder: the VM's disks, log and screenshots",
      action: 'image.build',
      parameters: [BUILD_PARAM],
      image: ofBuild,
      ok: { status: 204, description: 'removed' },
      async handler(r) {
        await backend.as(r.actor).builds.remove(r.params.id ?? '');
        return r.c.body(null, 204);
      },
    }),
  ];
}
