import { useEffect, useState } from 'preact/hooks';
import { api, setCsrfToken, whenSignedOut } from './api.ts';
import { t } from './i18n.ts';
import { match, navigate, usePath } from './router.ts';
import { Link, Loading, Title } from './ui.tsx';
import { AccountDetailView } from './views/account-detail.tsx';
import { AccountsView } from './views/accounts.tsx';
import { AttemptsView } from './views/attempts.tsx';
import { AuditView } from './views/audit.tsx';
import { IntegrationsView } from './views/integrations.tsx';
import { PasswordView } from './views/password.tsx';
import { ProjectsView } from './views/projects.tsx';
import { SessionsView } from './views/sessions.tsx';
import { SignInView } from './views/sign-in.tsx';
import { SystemView } from './views/system.tsx';
import { WebhookDetailView } from './views/webhook-detail.tsx';
import { WebhooksView } from './views/webhooks.tsx';

export interface Operator {
  email: string;
  must_change_password: boolean;
}
export interface Project {
  project_id: string;
  name: string;
  organization_id: number;
  created_at: string;
}

const SECTIONS = [
  ['integrations', 'nav.integrations'],
  ['accounts', 'nav.accounts'],
  ['sessions', 'nav.sessions'],
  ['attempts', 'nav.attempts'],
  ['webhooks', 'nav.webhooks'],
  ['audit', 'nav.audit'],
] as const;

export function App() {
  const path = usePath();
  const [operator, setOperator] = useState<Operator | null | undefined>(undefined);

  useEffect(() => {
    whenSignedOut(() => setOperator(null));
    api('GET', 'session').then(
      (s) => {
        setCsrfToken(s.csrf_token);
        setOperator(s.operator);
      },
      () => setOperator(null),
    );
  }, []);

  if (operator === undefined) return <Loading />;
  if (operator === null)
    return (
      <SignInView
        onSignedIn={(op) => {
          setOperator(op);
          if (op.must_change_password) navigate('/password', true);
          else if (path === '/' || path === '/sign-in') navigate('/projects', true);
        }}
      />
    );
  if (operator.must_change_password || path === '/password')
    return (
      <Shell operator={operator} path={path} onSignOut={() => setOperator(null)}>
        <PasswordView
          oneTime={operator.must_change_password}
          onChanged={() => {
            setOperator({ ...operator, must_change_password: false });
            navigate('/projects', true);
          }}
        />
      </Shell>
    );
  return (
    <Shell operator={operator} path={path} onSignOut={() => setOperator(null)}>
      <Routes path={path} />
    </Shell>
  );
}

const ROUTES: Array<[string, (p: Record<string, string>) => preact.JSX.Element]> = [
  ['/projects', () => <ProjectsView />],
  ['/projects/:projectId', (p) => <ProjectsView selected={p.projectId} />],
  ['/system', () => <SystemView />],
  ['/p/:projectId/integrations', (p) => <IntegrationsView projectId={p.projectId!} />],
  ['/p/:projectId/accounts', (p) => <AccountsView projectId={p.projectId!} />],
  ['/p/:projectId/accounts/:id', (p) => <AccountDetailView projectId={p.projectId!} id={p.id!} />],
  ['/p/:projectId/sessions', (p) => <SessionsView projectId={p.projectId!} />],
  ['/p/:projectId/attempts', (p) => <AttemptsView projectId={p.projectId!} />],
  ['/p/:projectId/webhooks', (p) => <WebhooksView projectId={p.projectId!} />],
  ['/p/:projectId/webhooks/:id', (p) => <WebhookDetailView projectId={p.projectId!} id={p.id!} />],
  ['/p/:projectId/audit', (p) => <AuditView projectId={p.projectId!} />],
];

function Routes({ path }: { path: string }) {
  if (path === '/' || path === '/sign-in') {
    navigate('/projects', true);
    return null;
  }
  for (const [pattern, view] of ROUTES) {
    const params = match(pattern, path);
    // Keyed by path so a view's state starts fresh when the URL changes.
    if (params) return <div key={path}>{view(params)}</div>;
  }
  return <Title lead={t('error.notFound')}>Not found</Title>;
}

function Shell({
  operator,
  path,
  onSignOut,
  children,
}: {
  operator: Operator;
  path: string;
  onSignOut: () => void;
  children: preact.ComponentChildren;
}) {
  const [projects, setProjects] = useState<Project[]>([]);
  const [theme, setTheme] = useState(localStorage.getItem('plugboard-theme') ?? 'system');
  const projectId = path.startsWith('/p/') ? decodeURIComponent(path.split('/')[2] ?? '') : undefined;
  const section = path.startsWith('/p/') ? path.split('/')[3] : undefined;
  const current = projectId ?? localStorage.getItem('plugboard-project') ?? projects[0]?.project_id;

  useEffect(() => {
    if (!operator.must_change_password)
      api('GET', 'projects').then(
        (r) => setProjects(r.data),
        () => {},
      );
  }, [operator.must_change_password, path === '/projects']);
  useEffect(() => {
    if (projectId) localStorage.setItem('plugboard-project', projectId);
  }, [projectId]);

  const applyTheme = (value: string) => {
    setTheme(value);
    if (value === 'system') {
      delete document.documentElement.dataset.theme;
      localStorage.removeItem('plugboard-theme');
    } else {
      document.documentElement.dataset.theme = value;
      localStorage.setItem('plugboard-theme', value);
    }
  };

  return (
    <>
      <a class="skip" href="#main">
        {t('app.skip')}
      </a>
      <header class="top">
        <Link to="/projects" class="brand">
          {t('app.name')}
        </Link>
        {projects.length > 0 && (
          <label>
            <span class="sr-only">{t('top.project')}</span>
            <select
              aria-label={t('top.project')}
              value={current}
              onChange={(e) =>
                navigate(`/p/${(e.target as HTMLSelectElement).value}/${section ?? 'integrations'}`)
              }
            >
              {projects.map((p) => (
                <option key={p.project_id} value={p.project_id}>
                  {p.name}
                </option>
              ))}
            </select>
          </label>
        )}
        <select
          aria-label={t('top.theme')}
          value={theme}
          onChange={(e) => applyTheme((e.target as HTMLSelectElement).value)}
        >
          <option value="system">{t('theme.system')}</option>
          <option value="light">{t('theme.light')}</option>
          <option value="dark">{t('theme.dark')}</option>
        </select>
        <span class="hint">{operator.email}</span>
        <Link to="/password">{t('top.password')}</Link>
        <button
          type="button"
          onClick={async () => {
            await api('DELETE', 'session').catch(() => {});
            onSignOut();
          }}
        >
          {t('top.signOut')}
        </button>
      </header>
      <div class="shell">
        <nav class="side" aria-label={t('nav.label')}>
          <ul>
            <li>
              <Link to="/projects" aria-current={path.startsWith('/projects') ? 'page' : undefined}>
                {t('nav.projects')}
              </Link>
            </li>
            {current &&
              SECTIONS.map(([key, label]) => (
                <li key={key}>
                  <Link to={`/p/${current}/${key}`} aria-current={section === key ? 'page' : undefined}>
                    {t(label)}
                  </Link>
                </li>
              ))}
            <li>
              <Link to="/system" aria-current={path === '/system' ? 'page' : undefined}>
                {t('nav.system')}
              </Link>
            </li>
          </ul>
        </nav>
        <main id="main">{children}</main>
      </div>
    </>
  );
}
