// Administration: users and the audit log for admins (users.manage, audit.read), API tokens for
// everyone (one's own; an admin's: everyone's). A part the role does not allow says so; the API
// refuses it anyway.
import { PageTitle } from '../components/common.tsx';
import { useConsole } from '../context.ts';
import { href, type AdminSection } from '../router.ts';
import type { Abilities } from '../session.ts';
import { AuditSection } from './admin-audit.tsx';
import { TokensSection } from './admin-tokens.tsx';
import { UsersSection } from './admin-users.tsx';

const SECTIONS: readonly { section: AdminSection; label: string; allowed: (can: Abilities) => boolean }[] = [
  { section: 'users', label: 'Users', allowed: (can) => can.manageUsers },
  { section: 'tokens', label: 'API tokens', allowed: () => true },
  { section: 'audit', label: 'Audit log', allowed: (can) => can.readAudit },
];

export function AdminPage({ section }: { readonly section: AdminSection }) {
  const { session } = useConsole();
  const shown = SECTIONS.filter((s) => s.allowed(session.can));
  const current = SECTIONS.find((s) => s.section === section);
  return (
    <>
      <PageTitle>{current?.label ?? 'Administration'}</PageTitle>
      {shown.length > 1 ? (
        <nav aria-label="Administration" class="tabs">
          <ul>
            {shown.map((s) => (
              <li key={s.section}>
                <a href={href('admin', s.section)} aria-current={s.section === section ? 'page' : undefined}>
                  {s.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
      ) : null}
      {current === undefined || !current.allowed(session.can) ? (
        <p>Your role does not allow this: ask an admin.</p>
      ) : section === 'users' ? (
        <UsersSection />
      ) : section === 'tokens' ? (
        <TokensSection />
      ) : (
        <AuditSection />
      )}
    </>
  );
}
