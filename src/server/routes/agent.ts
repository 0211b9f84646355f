// The routes the deploy agent calls (src/deploy/agent-protocol.ts says what each carries). The
// agent authenticates with its deployment's token, which opens that deployment while it is under
// way and nothing else: a token of an ended or cancelled deployment is refused, so a cancelled
// agent stops at its next call. A capture's agent pushes its one image, streamed, through the
// capture routes; a deployment's agent may not call them, nor a capture's the image routes.

import { Readable } from 'node:stream';
import { AppError } from '../../core/errors.ts';
import { isDigest } from '../../core/names.ts';
import type { AgentSession } from '../../app/deployments.ts';
import {
  AGENT_PATHS,
  AgentReport,
  AnyAgentTask,
  CaptureChunkAnswer,
  CaptureChunkQuery,
  CaptureResult,
  MulticastJoin,
  ShareFiles,
} from '../../app/session.ts';
import { parseRangeHeader } from '../../formats/http-range.ts';
import { bearer } from '../bearer.ts';
import { bytesAnswer, rangeNotSatisfiable } from '../byte-answer.ts';
import { defineRoute, type ApiRoute, type RouteRequest } from '../routes.ts';
import { withReceivedBytes } from '../receive-bytes.ts';
import { sendContent } from '../send-content.ts';
import type { RouteContext } from '../backend.ts';
import { manifestBodyBytes } from './uploads.ts';
import { Manifest } from '../schemas.ts';

const DIGEST_PARAM = { name: 'digest', in: 'path', description: "a chunk's SHA-256, 64 hex digits" } as const;
const PATH_PARAM = {
  name: 'path',
  in: 'path',
  description:
    "the file's path in the deployment share, percent-encoded as one segment ('drivers%2Fviostor%2Fviostor.inf')",
} as const;
const RANGE_PARAM = {
  name: 'range',
  in: 'header',
  description: 'bytes=START-END, bytes=START- or bytes=-SUFFIX',
} as const;

/** A chunk digest from the path, or INVALID_ARGUMENT. */
function digestParam(r: RouteRequest): string {
  const digest = r.params.digest ?? '';
  if (!isDigest(digest)) {
    throw new AppError('INVALID_ARGUMENT', `chunk ${JSON.stringify(digest.slice(0, 80))} is not a SHA-256`, {
      hint: 'name a chunk by its SHA-256, 64 lowercase hex digits',
    });
  }
  return digest;
}

export function agentRoutes({ backend, metrics }: RouteContext): ApiRoute[] {
  const agentOf = (r: RouteRequest): Promise<AgentSession> => {
    const token = bearer(r.c);
    if (token === null) {
      throw new AppError('UNAUTHORIZED', `${r.c.req.method} ${r.c.req.path} needs the agent's token`, {
        hint: 'the deploy agent sends its deployment token as Authorization: Bearer',
      });
    }
    return backend.agent(token, r.actor.client);
  };
  return [
    defineRoute({
      method: 'GET',
      path: AGENT_PATHS.task,
      summary:
        "the agent's task: its machine, firmware, disk rule and layout, the image and edition, the finish",
      action: null,
      caller: 'agent',
      ok: { status: 200, description: 'the task', json: AnyAgentTask },
      handler: async (r) => (await agentOf(r)).task(),
    }),
    defineRoute({
      method: 'POST',
      path: AGENT_PATHS.report,
      summary:
        "the agent's report: state (forward only), progress, log lines, inventory, disk, error; a heartbeat",
      action: null,
      caller: 'agent',
      body: { json: AgentReport },
      ok: { status: 204, description: 'recorded' },
      async handler(r) {
        await (await agentOf(r)).report(r.body);
        return r.c.body(null, 204);
      },
    }),
    defineRoute({
      method: 'GET',
      path: AGENT_PATHS.multicast,
      summary:
        "how to receive the image: from the deployment's multicast session (its address and ports), wait, or unicast",
      action: null,
      caller: 'agent',
      ok: { status: 200, description: 'the answer', json: MulticastJoin },
      handler: async (r) => (await agentOf(r)).multicast(),
    }),
    defineRoute({
      method: 'GET',
      path: AGENT_PATHS.manifest,
      summary: "the manifest of the deployment's image: its chunks in order",
      action: null,
      caller: 'agent',
      ok: { status: 200, description: 'the manifest', json: Manifest },
      handler: async (r) => (await agentOf(r)).manifest(),
    }),
    defineRoute({
      method: 'GET',
      path: `${AGENT_PATHS.chunk}/{digest}`,
      summary: "one chunk of the deployment's image (no other chunk is served)",
      action: null,
      caller: 'agent',
      parameters: [DIGEST_PARAM],
      ok: { status: 200, contentType: 'application/octet-stream', description: 'the chunk' },
      async handler(r) {
        const chunk = await (await agentOf(r)).chunk(digestParam(r));
        return sendContent(
          r,
          200,
          { 'content-type': 'application/octet-stream', 'content-length': String(chunk.size) },
          chunk,
          (n) => metrics.pulled(n),
        );
      },
    }),
    defineRoute({
      method: 'GET',
      path: AGENT_PATHS.unattend,
      summary: "the machine's answer file (unattend.xml), once: a second fetch is refused and audited",
      action: null,
      caller: 'agent',
      ok: { status: 200, contentType: 'application/xml', description: 'the answer file' },
      async handler(r) {
        const xml = await (await agentOf(r)).unattend();
        return r.c.body(xml, 200, { 'content-type': 'application/xml', 'cache-control': 'no-store' });
      },
    }),
    defineRoute({
      method: 'GET',
      path: AGENT_PATHS.files,
      summary:
        "the files of the deployment share the profile's steps name, and those in the folders they name: paths and sizes",
      action: null,
      caller: 'agent',
      ok: { status: 200, description: 'the files', json: ShareFiles },
      handler: async (r) => ({ files: await (await agentOf(r)).shareFiles() }),
    }),
    defineRoute({
      method: 'GET',
      path: `${AGENT_PATHS.files}/{path}`,
      summary: 'one file of the deployment share the profile names (no other is served); one Range',
      action: null,
      caller: 'agent',
      parameters: [PATH_PARAM, RANGE_PARAM],
      ok: {
        status: 200,
        contentType: 'application/octet-stream',
        description: 'the bytes (206 for a range)',
      },
      async handler(r) {
        const file = await (await agentOf(r)).shareFile(r.params.path ?? '');
        const range = parseRangeHeader(r.c.req.header('range'), file.size);
        // An empty file has no byte to stream; the stream closes the file when it ends or fails.
        if (range === 'unsatisfiable' || file.size === 0) await file.close();
        if (range === 'unsatisfiable') return rangeNotSatisfiable(r, file.size);
        const { status, headers } = bytesAnswer(range, file.size);
        const start = range?.start ?? 0;
        const end = range?.end ?? file.size - 1;
        const body = file.size === 0 ? null : (Readable.toWeb(file.stream(start, end)) as ReadableStream);
        return new Response(body, { status, headers });
      },
    }),
    defineRoute({
      method: 'POST',
      path: AGENT_PATHS.captureChunks,
      summary: "a capture's agent: of these chunks of its image, those the repository still needs",
      action: null,
      caller: 'agent',
      body: { json: CaptureChunkQuery, maxBytes: 96 * 1024 },
      ok: { status: 200, description: 'the chunks to send', json: CaptureChunkAnswer },
      handler: async (r) => ({ missing: await (await agentOf(r)).captureMissing(r.body.digests) }),
    }),
    defineRoute({
      method: 'PUT',
      path: `${AGENT_PATHS.captureChunks}/{digest}`,
      summary: "a capture's agent: one chunk of its image; its SHA-256 must be its digest",
      action: null,
      caller: 'agent',
      parameters: [DIGEST_PARAM],
      body: {
        bytes: 'application/octet-stream',
        description: 'the chunk bytes',
        maxBytes: backend.maxChunkBytes,
      },
      ok: { status: 204, description: 'stored (or already there)' },
      async handler(r) {
        const session = await agentOf(r);
        const digest = digestParam(r);
        await withReceivedBytes(r, (bytes) => session.captureChunk(digest, bytes));
        return r.c.body(null, 204);
      },
    }),
    defineRoute({
      method: 'POST',
      path: AGENT_PATHS.captureCommit,
      summary:
        "a capture's agent: the manifest of its image; every chunk and the whole are verified, then the image is listed",
      action: null,
      caller: 'agent',
      body: { json: Manifest, maxBytes: manifestBodyBytes(backend.maxManifestChunks) },
      ok: { status: 201, description: 'the image listed', json: CaptureResult },
      async handler(r) {
        return r.c.json(await (await agentOf(r)).captureCommit(r.body), 201);
      },
    }),
  ];
}
