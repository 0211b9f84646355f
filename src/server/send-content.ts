// Stored content as an HTTP response. On a real socket the bytes go straight to it with Node's own
// back-pressure (no web stream in between): on a filesystem store a response reads into two
// reused buffers, whatever its size. A failure part-way cuts the connection, so the client sees a
// short body, never a wrong one. Elsewhere (app.request in tests) the content is a web stream.

import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { Content } from '../store/repository.ts';
import type { RouteRequest } from './routes.ts';

export function sendContent(
  r: RouteRequest,
  status: number,
  headers: Record<string, string>,
  content: Content,
  /** Told the bytes sent once the whole content has gone (the server's metrics). */
  sent: (bytes: number) => void = () => undefined,
): Response {
  const outgoing = (r.c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
  if (outgoing !== undefined) {
    outgoing.writeHead(status, headers);
    content.writeTo(outgoing).then(
      () => {
        outgoing.end();
        sent(content.size);
      },
      () => outgoing.destroy(),
    );
    return RESPONSE_ALREADY_SENT;
  }
  content.stream.once('end', () => sent(content.size));
  return new Response(Readable.toWeb(content.stream) as ReadableStream, { status, headers });
}
