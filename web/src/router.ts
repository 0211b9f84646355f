// The console's views by the URL's fragment (#/machines, #/images/NAME/TAG): the server serves
// one page, and no path or query of a view ever reaches it.
import { useEffect, useState } from 'preact/hooks';

/** The parts of the administration view: users and the audit log are for admins, tokens for everyone. */
export const ADMIN_SECTIONS = ['users', 'tokens', 'audit'] as const;
export type AdminSection = (typeof ADMIN_SECTIONS)[number];

export type Route =
  | { readonly view: 'images' }
  | { readonly view: 'image'; readonly name: string; readonly tag: string }
  | { readonly view: 'builds' }
  | { readonly view: 'build'; readonly id: string }
  | { readonly view: 'machines' }
  | { readonly view: 'deployments' }
  | { readonly view: 'deployment'; readonly id: string }
  | { readonly view: 'profiles' }
  | { readonly view: 'profile'; readonly name: string }
  | { readonly view: 'repository' }
  | { readonly view: 'admin'; readonly section: AdminSection }
  | { readonly view: 'not-found'; readonly path: string };

function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  const [first = '', second, third] = parts;
  switch (first) {
    case '':
    case 'images':
      if (second !== undefined && third !== undefined) return { view: 'image', name: second, tag: third };
      return { view: 'images' };
    case 'builds':
      return second === undefined ? { view: 'builds' } : { view: 'build', id: second };
    case 'machines':
      return { view: 'machines' };
    case 'deployments':
      return second === undefined ? { view: 'deployments' } : { view: 'deployment', id: second };
    case 'profiles':
      return second === undefined ? { view: 'profiles' } : { view: 'profile', name: second };
    case 'repository':
      return { view: 'repository' };
    case 'admin': {
      const section = ADMIN_SECTIONS.find((s) => s === second);
      return section === undefined ? { view: 'not-found', path: hash } : { view: 'admin', section };
    }
    default:
      return { view: 'not-found', path: hash };
  }
}

/** The fragment of a view: each part percent-encoded (an image name's '/' included). */
export function href(...parts: string[]): string {
  return `#/${parts.map(encodeURIComponent).join('/')}`;
}

export function navigate(...parts: string[]): void {
  location.hash = href(...parts);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const changed = (): void => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', changed);
    return () => removeEventListener('hashchange', changed);
  }, []);
  return route;
}
