// What every view of a signed-in console shares: the session, the API as its token calls it, and
// the server's event feed.
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Api } from './api.ts';
import type { EventFeed } from './events.ts';
import type { Session } from './session.ts';

export interface Console {
  readonly session: Session;
  readonly api: Api;
  readonly events: EventFeed;
}

export const ConsoleContext = createContext<Console | null>(null);

export function useConsole(): Console {
  const value = useContext(ConsoleContext);
  if (value === null) throw new Error('useConsole outside a signed-in console');
  return value;
}
