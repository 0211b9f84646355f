// Names the repository accepts, checked in one pure module that the API, the CLI and the catalog
// all call: image names (lower-case path segments), tags, `name:tag` references, user names, scope
// prefixes and MAC addresses. Each check throws AppError INVALID_ARGUMENT saying what was expected
// and quoting what was found (control characters escaped, so the message itself stays one line).

import { AppError } from './errors.ts';

/** Long enough for deep team/project/name paths, short enough for URLs, file names and logs. */
export const MAX_IMAGE_NAME_LENGTH = 200;
/** Tags are short labels (versions, dates, `latest`), as in container registries. */
export const MAX_TAG_LENGTH = 128;
/** User names appear in every audit entry and token listing. */
export const MAX_USER_NAME_LENGTH = 64;

const NAME_SEGMENT = /^[a-z0-9][a-z0-9._-]*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const USER_NAME = /^[a-z_][a-z0-9_.-]{0,63}$/;
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

export interface ImageRef {
  readonly name: string;
  readonly tag: string;
}

function quote(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
}

function invalid(message: string, hint: string): AppError {
  return new AppError('INVALID_ARGUMENT', message, { hint });
}

const NAME_HINT =
  'an image name is lower-case path segments like team-a/windows-server-2022 (letters a-z, digits, . _ -; each segment starts with a letter or digit)';

/** Why `name` is not a valid image name, or undefined when it is. */
export function imageNameProblem(name: string): string | undefined {
  if (name === '') return 'is empty';
  if (name.length > MAX_IMAGE_NAME_LENGTH) {
    return `is ${name.length} characters long, more than ${MAX_IMAGE_NAME_LENGTH}`;
  }
  if (CONTROL.test(name)) return 'contains a control character';
  if (name.includes('..')) return 'contains ".."';
  for (const segment of name.split('/')) {
    if (segment === '') return 'has an empty path segment (leading, trailing or double "/")';
    if (!NAME_SEGMENT.test(segment)) {
      return `has the segment ${quote(segment)}, expected [a-z0-9][a-z0-9._-]*`;
    }
  }
  return undefined;
}

export function isValidImageName(name: string): boolean {
  return imageNameProblem(name) === undefined;
}

export function validateImageName(name: string): string {
  const problem = imageNameProblem(name);
  if (problem !== undefined) throw invalid(`image name ${quote(name)} ${problem}`, NAME_HINT);
  return name;
}

export function isValidTag(tag: string): boolean {
  return TAG.test(tag);
}

export function validateTag(tag: string): string {
  if (!isValidTag(tag)) {
    throw invalid(
      `tag ${quote(tag)} is not valid: expected 1 to ${MAX_TAG_LENGTH} characters of A-Z a-z 0-9 . _ -, not starting with . or -`,
      'use a tag such as latest, 2024-06 or v1.2',
    );
  }
  return tag;
}

/**
 * Parses `name:tag`. The name has no `:`, so the last `:` separates the two. Without a `:`, the
 * default tag is used when one is given; otherwise it is an error.
 */
export function parseImageRef(ref: string, defaultTag?: string): ImageRef {
  const colon = ref.lastIndexOf(':');
  if (colon < 0) {
    if (defaultTag === undefined) {
      throw invalid(
        `image reference ${quote(ref)} has no tag: expected NAME:TAG`,
        'write it as NAME:TAG, e.g. team-a/ws2022:latest',
      );
    }
    return { name: validateImageName(ref), tag: validateTag(defaultTag) };
  }
  return { name: validateImageName(ref.slice(0, colon)), tag: validateTag(ref.slice(colon + 1)) };
}

export function formatImageRef(ref: ImageRef): string {
  return `${ref.name}:${ref.tag}`;
}

export function isValidUserName(name: string): boolean {
  return USER_NAME.test(name);
}

export function validateUserName(name: string): string {
  if (!isValidUserName(name)) {
    throw invalid(
      `user name ${quote(name)} is not valid: expected 1 to ${MAX_USER_NAME_LENGTH} characters of a-z 0-9 _ . -, starting with a letter or _`,
      'choose a lower-case name such as alice or ci_builder',
    );
  }
  return name;
}

/**
 * A scope is an image-name prefix ending at a segment boundary: `team-a/` (or `team-a`) covers
 * `team-a` and everything under `team-a/`, not `team-ab`. Returned normalized with a trailing `/`.
 */
export function normalizeScope(scope: string): string {
  const bare = scope.endsWith('/') ? scope.slice(0, -1) : scope;
  const problem = imageNameProblem(bare);
  if (problem !== undefined) {
    throw invalid(
      `scope ${quote(scope)} ${problem}`,
      'a scope is an image-name prefix such as team-a/ or team-a/servers/',
    );
  }
  return `${bare}/`;
}

/** Whether `name` is covered by the (normalized) scope prefix. */
export function nameInScope(name: string, scope: string): boolean {
  const bare = scope.endsWith('/') ? scope.slice(0, -1) : scope;
  return name === bare || name.startsWith(`${bare}/`);
}

/** A MAC address as `aa:bb:cc:dd:ee:ff`; accepts `:` or `-` separators or none, any case. */
export function normalizeMac(mac: string): string {
  const hex = mac.trim().toLowerCase();
  const match =
    /^([0-9a-f]{2})[:-]?([0-9a-f]{2})[:-]?([0-9a-f]{2})[:-]?([0-9a-f]{2})[:-]?([0-9a-f]{2})[:-]?([0-9a-f]{2})$/.exec(
      hex,
    );
  if (match === null) {
    throw invalid(
      `MAC address ${quote(mac)} is not valid: expected six hex octets like 52:54:00:12:34:56`,
      'give the MAC address as aa:bb:cc:dd:ee:ff',
    );
  }
  return match.slice(1).join(':');
}

/** A SHA-256 as the repository names chunks, manifests and contents: 64 lower-case hex digits. */
export function isDigest(text: string): boolean {
  return /^[0-9a-f]{64}$/.test(text);
}
