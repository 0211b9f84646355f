// Which images an actor may read, as a test on an image's name: what bounds the deployments and
// builds it is shown (one of another image is not found, as if it did not exist).

import { nameInScope } from '../core/names.ts';
import type { Actor } from './session.ts';

export type ImageVisibility = (imageName: string) => boolean;

export const everyImage: ImageVisibility = () => true;

/** The images `actor` may read: every one unless its read scopes bound them. */
export function visibleTo(actor: Actor): ImageVisibility {
  const scopes = actor.readScopes;
  return scopes === undefined ? everyImage : (name) => scopes.some((scope) => nameInScope(name, scope));
}
