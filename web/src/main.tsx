// The console: the sign-in form, or the signed-in frame with the view the URL's fragment names.
import { render } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { createApi } from './api.ts';
import { ConsoleContext, type Console } from './context.ts';
import { EventFeed } from './events.ts';
import { forgetSession, storedSession, type Session } from './session.ts';
import { useRoute, type Route } from './router.ts';
import { Layout } from './components/layout.tsx';
import { LoginPage } from './pages/login.tsx';
import { ImagesPage } from './pages/images.tsx';
import { ImagePage } from './pages/image.tsx';
import { BuildsPage } from './pages/builds.tsx';
import { BuildPage } from './pages/build.tsx';
import { MachinesPage } from './pages/machines.tsx';
import { DeploymentsPage } from './pages/deployments.tsx';
import { DeploymentPage } from './pages/deployment.tsx';
import { ProfilePage, ProfilesPage } from './pages/profiles.tsx';
import { RepositoryPage } from './pages/repository.tsx';
import { AdminPage } from './pages/admin.tsx';
import { PageTitle } from './components/common.tsx';
import './style.css';

function View({ route }: { readonly route: Route }) {
  switch (route.view) {
    case 'images':
      return <ImagesPage />;
    case 'image':
      // Keyed: another image's page starts afresh (its root folder, no comparison), not with
      // what the page before showed.
      return <ImagePage key={`${route.name}:${route.tag}`} name={route.name} tag={route.tag} />;
    case 'builds':
      return <BuildsPage />;
    case 'build':
      return <BuildPage id={route.id} />;
    case 'machines':
      return <MachinesPage />;
    case 'deployments':
      return <DeploymentsPage />;
    case 'deployment':
      return <DeploymentPage id={route.id} />;
    case 'profiles':
      return <ProfilesPage />;
    case 'profile':
      return <ProfilePage name={route.name} />;
    case 'repository':
      return <RepositoryPage />;
    case 'admin':
      return <AdminPage section={route.section} />;
    case 'not-found':
      return <PageTitle>No view at {route.path}</PageTitle>;
  }
}

function SignedIn({ session, onLogOut }: { readonly session: Session; readonly onLogOut: () => void }) {
  const route = useRoute();
  const value = useMemo<Console>(() => {
    const api = createApi(session.token, onLogOut);
    return { session, api, events: new EventFeed() };
  }, [session, onLogOut]);
  useEffect(() => {
    value.events.start(value.api);
    return () => value.events.stop();
  }, [value]);
  return (
    <ConsoleContext.Provider value={value}>
      <Layout route={route} session={session} onLogOut={onLogOut}>
        <View route={route} />
      </Layout>
    </ConsoleContext.Provider>
  );
}

function App() {
  const [session, setSession] = useState<Session | null>(storedSession);
  const logOut = useMemo(
    () => () => {
      forgetSession();
      setSession(null);
    },
    [],
  );
  return session === null ? (
    <LoginPage onLoggedIn={setSession} />
  ) : (
    <SignedIn session={session} onLogOut={logOut} />
  );
}

const root = document.getElementById('app');
if (root !== null) render(<App />, root);
