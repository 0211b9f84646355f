// The frame of every signed-in view: a skip link, the navigation, who is signed in and a sign-out
// button. When the view changes, the focus moves to its heading, so that keyboard and screen-reader
// users start from the new content.
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { useConsole } from '../context.ts';
import { href, type AdminSection, type Route } from '../router.ts';
import type { Abilities, Session } from '../session.ts';

const SECTIONS = [
  { view: 'images', label: 'Images', also: ['image'] },
  { view: 'builds', label: 'Builds', also: ['build'] },
  { view: 'machines', label: 'Machines', also: [] },
  { view: 'deployments', label: 'Deployments', also: ['deployment'] },
  { view: 'profiles', label: 'Profiles', also: ['profile'] },
  { view: 'repository', label: 'Repository', also: [] },
] as const;

/** Where the administration entry leads: an admin's users, or one's own API tokens for the other roles. */
function adminEntry(can: Abilities): { readonly section: AdminSection; readonly label: string } {
  return can.manageUsers
    ? { section: 'users', label: 'Administration' }
    : { section: 'tokens', label: 'API tokens' };
}

function roleText(session: Session): string {
  const { can } = session;
  if (can.deploy && can.build) return 'administrator';
  if (can.deploy) return 'operator';
  if (can.build) return 'builder';
  return 'read only';
}

export function Layout({
  route,
  session,
  onLogOut,
  children,
}: {
  readonly route: Route;
  readonly session: Session;
  readonly onLogOut: () => void;
  readonly children: ComponentChildren;
}) {
  const { events } = useConsole();
  const [live, setLive] = useState<boolean | null>(null);
  useEffect(() => events.onLive(setLive), [events]);
  useEffect(() => {
    document.querySelector<HTMLElement>('main h1')?.focus();
  }, [route]);
  return (
    <div class="frame">
      <a
        class="skip"
        href="#main"
        onClick={(e) => {
          e.preventDefault();
          document.querySelector<HTMLElement>('main h1')?.focus();
        }}
      >
        Skip to content
      </a>
      <header class="top">
        <span class="brand">winsmith</span>
        <nav aria-label="Sections">
          <ul>
            {SECTIONS.map((s) => {
              const current = s.view === route.view || (s.also as readonly string[]).includes(route.view);
              return (
                <li key={s.view}>
                  <a href={href(s.view)} aria-current={current ? 'page' : undefined}>
                    {s.label}
                  </a>
                </li>
              );
            })}
            <li>
              <a
                href={href('admin', adminEntry(session.can).section)}
                aria-current={route.view === 'admin' ? 'page' : undefined}
              >
                {adminEntry(session.can).label}
              </a>
            </li>
          </ul>
        </nav>
        <div class="who">
          <span role="status" class={`live ${live === false ? 'off' : 'on'}`}>
            {live === null ? 'Connecting…' : live ? 'Live' : 'Reconnecting…'}
          </span>
          <span>
            {session.user} <span class="muted">({roleText(session)})</span>
          </span>
          <button type="button" onClick={onLogOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main">{children}</main>
    </div>
  );
}
