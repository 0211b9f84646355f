// The console's one way to the server: the public HTTP API, the token sent as a Bearer header
// (never in a URL). A refusal comes back as an ApiError with the server's code, message and hint,
// which the pages show as they are.

export class ApiError extends Error {
  readonly code: string;
  readonly hint: string | null;
  readonly status: number;

  constructor(status: number, code: string, message: string, hint: string | null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.hint = hint;
  }
}

interface ErrorBody {
  readonly error?: { readonly code?: string; readonly message?: string; readonly hint?: string | null };
}

/** The ApiError of a response that is not ok: the server's error body, or its status when it has none. */
async function errorOf(response: Response): Promise<ApiError> {
  const body = (await response.json().catch(() => ({}))) as ErrorBody;
  return new ApiError(
    response.status,
    body.error?.code ?? `HTTP_${response.status}`,
    body.error?.message ?? `the server answered ${response.status} ${response.statusText}`,
    body.error?.hint ?? null,
  );
}

/** The readable text of anything a request threw. */
export function errorMessage(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  if (e instanceof TypeError) return `the server cannot be reached (${e.message})`;
  return e instanceof Error ? e.message : String(e);
}

/** A path segment of the API: image names hold '/', sent as %2F in one segment. */
export const segment = encodeURIComponent;

export interface Api {
  get<T>(path: string): Promise<T>;
  post<T>(path: string, body?: unknown): Promise<T>;
  put<T>(path: string, body: unknown): Promise<T>;
  patch<T>(path: string, body: unknown): Promise<T>;
  delete(path: string): Promise<void>;
  /** The raw answer of a GET that is not JSON (a screenshot). */
  blob(path: string): Promise<Blob>;
  /** The response of a long GET (the event stream), open until `signal` aborts. */
  stream(path: string, signal: AbortSignal): Promise<Response>;
}

/**
 * The API as `token` calls it; `onUnauthorized` runs when the server no longer takes the token
 * (expired, revoked, its user disabled).
 */
export function createApi(token: string | null, onUnauthorized: () => void): Api {
  const call = async (method: string, path: string, body?: unknown, signal?: AbortSignal) => {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token !== null) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(path, {
      method,
      headers,
      cache: 'no-store',
      credentials: 'omit',
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...(signal === undefined ? {} : { signal }),
    });
    if (response.ok) return response;
    const error = await errorOf(response);
    if (response.status === 401 && token !== null) onUnauthorized();
    throw error;
  };
  const json = async <T>(response: Response): Promise<T> =>
    response.status === 204 ? (undefined as T) : ((await response.json()) as T);
  return {
    get: async (path) => json(await call('GET', path)),
    post: async (path, body) => json(await call('POST', path, body)),
    put: async (path, body) => json(await call('PUT', path, body)),
    patch: async (path, body) => json(await call('PATCH', path, body)),
    delete: async (path) => {
      await call('DELETE', path);
    },
    blob: async (path) => (await call('GET', path)).blob(),
    stream: (path, signal) => call('GET', path, undefined, signal),
  };
}
