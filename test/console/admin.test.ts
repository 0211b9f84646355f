// The console's administration and profile editor end to end: a real `winsmith server` on
// 127.0.0.1 (serveRepository, with an image and a profile holding an administrator password of
// its own) and real Chromium. An admin adds a user (its password generated, shown once), resets
// its password, disables it, creates an API token (shown once; after a reload only listed),
// revokes it after a question naming it, removes the user, and finds all of it in the audit log,
// which a filter narrows. A build that is over is removed after a question naming it. The profile is edited: a mistake is shown with its line, then the edit
// is saved, and its stored password is kept without ever reaching the browser. A viewer sees only
// their own tokens, and the API refuses them the rest anyway. Every page: no serious or critical
// axe-core violation, every control reached by Tab, no sideways scrolling on a laptop or a tablet,
// no script error; each is photographed into out/console/admin-*.png.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { SECRETS_KEY_FILE } from '../../src/app/local-app.ts';
import { loadSecretBox } from '../../src/auth/secret-box.ts';
import { DeploymentStore } from '../../src/deploy/deployment-store.ts';
import { wimCapture } from '../../src/engines/wimlib.ts';
import { withTempDir } from '../../src/io/output.ts';
import { consoleDirectory } from '../../src/server/console.ts';
import { failedBuild } from '../helpers/failed-build.ts';
import { IMAGE_REF, startDeployServer, type DeployServer } from '../helpers/deploy-server.ts';
import {
  checkPage,
  type InPage,
  LAPTOP,
  launchChromium,
  NO_BROWSER,
  recordUrls,
  screenshot,
  seriousViolations,
  watchPage,
} from './browser.ts';

const PASSWORD = 'a long administration password';
/** The profile's administrator password: stored sealed, never sent to the browser. */
const PROFILE_PASSWORD = 'Pr0file-Adm1n-pass';

/** A WIM of one file: what the profile deploys. */
async function oneFileWim(dir: string): Promise<string> {
  await mkdir(join(dir, 'tree', 'Windows'), { recursive: true });
  await writeFile(join(dir, 'tree', 'Windows', 'win.ini'), '; admin console test\n');
  await wimCapture(join(dir, 'tree'), join(dir, 'one.wim'), {
    name: 'Windows Server 2022',
    compression: 'none',
  });
  return join(dir, 'one.wim');
}

/** The profile's YAML as the server stores it, opened with the data directory's key. */
async function storedProfile(server: DeployServer, name: string): Promise<string> {
  const stored = await new DeploymentStore(server.app.database).getProfile(name);
  assert.ok(stored !== undefined, `profile ${name} is stored`);
  const box = await loadSecretBox({ file: join(server.dataDir, SECRETS_KEY_FILE) });
  return box.open(stored.sealed, `profile:${name}`);
}

async function signIn(page: Page, url: string, user: string): Promise<void> {
  await page.goto(url);
  await page.getByLabel('User').fill(user);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Images' }).waitFor();
}

/** The status of a request to the server with `token`. */
async function statusOf(server: DeployServer, token: string, method: string, path: string, body?: object) {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  await response.body?.cancel();
  return response.status;
}

async function loginStatus(server: DeployServer, user: string, password: string): Promise<number> {
  const response = await fetch(`${server.url}/api/v1/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user, password }),
  });
  await response.body?.cancel();
  return response.status;
}

/** The bodies of every API answer the page got (the event stream aside, which never ends). */
function recordAnswers(page: Page): string[] {
  const bodies: string[] = [];
  page.on('response', (response) => {
    if (!response.url().includes('/api/') || response.url().endsWith('/api/v1/events')) return;
    response.text().then(
      (text) => bodies.push(text),
      () => undefined,
    );
  });
  return bodies;
}

test(
  'the console: users, tokens, the audit log and a profile edited by an admin; a viewer refused',
  { skip: NO_BROWSER, timeout: 240_000 },
  async () => {
    assert.ok(
      existsSync(join(consoleDirectory(), 'index.html')),
      `the console is not built in ${consoleDirectory()}: run npm run build`,
    );
    await withTempDir(async (dir) => {
      const server = await startDeployServer(join(dir, 'data'), await oneFileWim(dir));
      try {
        const setup = server.app.as({ user: 'setup', client: 'test' }).accounts;
        await setup.addUser({ name: 'root', role: 'admin', scopes: [], password: PASSWORD });
        await setup.addUser({ name: 'watcher', role: 'viewer', scopes: [], password: PASSWORD });
        await server.applyProfile({ name: 'web', firmware: 'uefi', adminPassword: PROFILE_PASSWORD });
        const browser = await launchChromium();
        try {
          const context = await browser.newContext({ viewport: LAPTOP });
          const page = await context.newPage();
          const problems = watchPage(page);
          const urls = recordUrls(page);
          const answers = recordAnswers(page);
          await signIn(page, server.url, 'root');

          // Users: add one, its password generated and shown once.
          await page
            .getByRole('navigation', { name: 'Sections' })
            .getByRole('link', { name: 'Administration' })
            .click();
          await page.getByRole('heading', { name: 'Users', exact: true }).waitFor();
          await page.getByRole('table').locator('tr[data-user="root"]').waitFor();
          await checkPage(page, 'admin-users', problems);
          const add = page.getByRole('form', { name: 'Add a user' });
          await add.getByLabel('Name', { exact: true }).fill('alice');
          await add.getByLabel('Role').selectOption('builder');
          await add.getByLabel(/^Scopes/).fill('team-a/');
          await add.getByRole('button', { name: 'Add user' }).click();
          const first = await page.getByLabel('Password of alice', { exact: true }).inputValue();
          assert.ok(first.length >= 16, first);
          const alice = page.locator('tr[data-user="alice"]');
          assert.match(await alice.innerText(), /alice\s+builder\s+team-a\/\s+enabled/);
          assert.equal((await server.session.accounts.showUser('alice')).role, 'builder');
          assert.equal(await loginStatus(server, 'alice', first), 200);
          await checkPage(page, 'admin-user-added', problems);
          await page.getByRole('button', { name: 'Done' }).click();

          // Its password reset: a new one, shown once; the old one no longer works.
          await page.getByRole('button', { name: 'Reset password of alice' }).click();
          const second = await page.getByLabel('New password of alice', { exact: true }).inputValue();
          assert.notEqual(second, first);
          assert.equal(await loginStatus(server, 'alice', second), 200);
          assert.equal(await loginStatus(server, 'alice', first), 401);
          await page.getByRole('button', { name: 'Done' }).click();

          // Disabled: its sign-in is refused.
          await page.getByRole('button', { name: 'Disable alice' }).click();
          await alice.locator('.badge', { hasText: 'disabled' }).waitFor();
          assert.equal((await server.session.accounts.showUser('alice')).disabled, true);
          assert.notEqual(await loginStatus(server, 'alice', second), 200);
          // A refusal is shown on its form in the server's words.
          await add.getByLabel('Name', { exact: true }).fill('watcher');
          await add.getByRole('button', { name: 'Add user' }).click();
          assert.match(
            await add.getByRole('alert').innerText(),
            /user watcher already exists[\s\S]*ALREADY_EXISTS/,
          );

          // A token: shown once, in a field to copy; after a reload only listed.
          await page
            .getByRole('navigation', { name: 'Administration' })
            .getByRole('link', { name: 'API tokens' })
            .click();
          await page.getByRole('heading', { name: 'API tokens' }).waitFor();
          await page.getByLabel('Token name').fill('ci-runner');
          await page.getByRole('button', { name: 'Create token' }).click();
          const token = await page.getByLabel('Token ci-runner', { exact: true }).inputValue();
          assert.match(token, /^wsm_/);
          assert.equal(await statusOf(server, token, 'GET', '/api/v1/me'), 200);
          const row = page.locator('tr', { hasText: 'ci-runner' });
          assert.match(await row.innerText(), /ci-runner\s+root\s+API[\s\S]*active/);
          // Sessions opened with a password are listed as such.
          assert.match(
            await page.locator('tr', { hasText: 'login from' }).first().innerText(),
            /login from \S+\s+\S+\s+Sign-in session/,
          );
          await checkPage(page, 'admin-token-created', problems);
          const answered = answers.length;
          await page.reload();
          await page.getByRole('heading', { name: 'API tokens' }).waitFor();
          await row.waitFor();
          assert.equal(await page.locator('.shown-once').count(), 0);
          assert.ok(!(await page.content()).includes(token), 'the token is on the page after a reload');
          const storage = await page.evaluate(
            () => (globalThis as unknown as InPage).sessionStorage.getItem('winsmith.session') ?? '',
          );
          assert.ok(storage !== '' && !storage.includes(token), 'the token is kept in the tab');
          await checkPage(page, 'admin-tokens', problems);

          // Revoked after a question naming it and its owner: refused from then on.
          await page.getByRole('button', { name: 'Revoke token ci-runner of root' }).click();
          const revoke = page.getByRole('dialog', { name: 'Revoke token ci-runner?' });
          assert.match(await revoke.innerText(), /Token ci-runner of root/);
          assert.deepEqual(await seriousViolations(page), [], 'the revoke question: axe-core');
          await screenshot(page, 'admin-revoke-question');
          await revoke.getByRole('button', { name: 'Revoke ci-runner' }).click();
          await row.locator('.badge', { hasText: 'revoked' }).waitFor();
          assert.equal(await statusOf(server, token, 'GET', '/api/v1/me'), 401);
          assert.ok(
            answers.slice(answered).every((body) => !body.includes(token)),
            'an answer after the creation held the token',
          );

          // The user removed after a question naming it.
          await page
            .getByRole('navigation', { name: 'Administration' })
            .getByRole('link', { name: 'Users' })
            .click();
          await page.getByRole('button', { name: 'Delete alice' }).click();
          const remove = page.getByRole('dialog', { name: 'Delete user alice?' });
          assert.match(await remove.innerText(), /User alice \(builder\)/);
          await remove.getByRole('button', { name: 'Delete alice' }).click();
          await alice.waitFor({ state: 'detached' });
          assert.ok(!(await server.session.accounts.listUsers()).some((u) => u.name === 'alice'));

          // The audit log shows each of these; a filter narrows it, a time range too.
          await page
            .getByRole('navigation', { name: 'Administration' })
            .getByRole('link', { name: 'Audit log' })
            .click();
          await page.getByRole('heading', { name: 'Audit log' }).waitFor();
          const log = page.getByRole('table', { name: 'Audit log' });
          for (const action of [
            'user.add',
            'user.password',
            'user.change',
            'token.create',
            'token.revoke',
            'user.remove',
          ])
            await log.locator(`tr[data-audit="${action}"]`).first().waitFor();
          assert.match(
            await log.locator('tr[data-audit="user.add"]').first().innerText(),
            /root\s+user\.add\s+alice/,
          );
          await checkPage(page, 'admin-audit', problems);
          const filters = page.getByRole('form', { name: 'Filter the audit log' });
          await filters.getByLabel('Action').fill('token.revoke');
          await filters.getByRole('button', { name: 'Apply filters' }).click();
          await page
            .getByRole('status')
            .filter({ hasText: /^1 entry shown/ })
            .waitFor();
          assert.equal(await log.locator('tbody tr').count(), 1);
          assert.match(await log.innerText(), /root\s+token\.revoke\s+root/);
          await checkPage(page, 'admin-audit-filtered', problems);
          await filters.getByLabel('From').fill('2099-01-01T00:00');
          await filters.getByRole('button', { name: 'Apply filters' }).click();
          await page.getByText('No entry matches.').waitFor();

          // The profile: its YAML masked, a mistake shown at its line, then saved.
          await page.getByRole('link', { name: 'Profiles' }).click();
          await page.getByRole('table').getByRole('link', { name: 'web' }).click();
          await page.getByRole('button', { name: 'Edit profile' }).click();
          const editor = page.getByLabel('YAML of profile web');
          const shown = await editor.inputValue();
          assert.match(shown, /adminPassword: "\*{8}"/);
          await editor.fill(shown.replace('finish: reboot', 'finish: sometimes'));
          await page.getByRole('button', { name: 'Save profile' }).click();
          const error = page.getByRole('alert');
          assert.match(
            await error.innerText(),
            /web\.yaml:7:9: finish must be reboot, poweroff, found 'sometimes'/,
          );
          assert.equal(await page.locator('.gutter .error-line').innerText(), '7');
          await page.getByRole('button', { name: 'Go to line 7' }).click();
          assert.equal(
            await editor.evaluate((area) => {
              const a = area as unknown as { value: string; selectionStart: number; selectionEnd: number };
              return a.value.slice(a.selectionStart, a.selectionEnd);
            }),
            'finish: sometimes',
          );
          await checkPage(page, 'admin-profile-error', problems);
          await editor.fill(shown.replace('finish: reboot', 'finish: poweroff'));
          await page.getByRole('button', { name: 'Save profile' }).click();
          await page.getByRole('status').filter({ hasText: 'Saved profile web.' }).waitFor();
          await page.getByLabel('The YAML of profile web').filter({ hasText: 'finish: poweroff' }).waitFor();
          await checkPage(page, 'admin-profile-saved', problems);

          // A new profile from its YAML: a name taken is refused; one added, then removed after a question.
          await page.getByRole('link', { name: 'All profiles' }).click();
          await page.getByRole('button', { name: 'New profile' }).click();
          const fresh = page.getByLabel('YAML of the new profile');
          const template = await fresh.inputValue();
          await fresh.fill(template.replace('name: new-profile', 'name: web'));
          await page.getByRole('button', { name: 'Add profile' }).click();
          assert.match(await page.getByRole('alert').innerText(), /a profile named web exists/);
          await fresh.fill(
            template
              .replace('name: new-profile', 'name: db')
              .replace('image: NAME:TAG', `image: ${IMAGE_REF.name}:${IMAGE_REF.tag}`),
          );
          await page.getByRole('button', { name: 'Add profile' }).click();
          await page.getByRole('heading', { name: 'Profile db' }).waitFor();
          assert.equal((await server.session.profiles.show('db')).summary.finish, 'reboot');
          await checkPage(page, 'admin-profile-added', problems);
          await page.getByRole('button', { name: 'Remove profile…' }).click();
          await page.getByRole('dialog', { name: 'Remove profile db?' }).waitFor();
          assert.deepEqual(
            await seriousViolations(page),
            [],
            'the question before removing a profile: axe-core',
          );
          await page.getByRole('button', { name: 'Remove profile', exact: true }).click();
          await page.getByRole('heading', { name: 'Profiles', exact: true }).waitFor();
          assert.deepEqual(
            (await server.session.profiles.list()).map((p) => p.name),
            ['web'],
          );

          // A build that is over is removed after a question naming it; it is gone from the server.
          const { id: build } = await failedBuild(server.app, server.dataDir, { output: 'lab/ws:v1' });
          await page.goto(`${server.url}/#/builds/${build}`);
          await page.getByRole('heading', { name: `Build ${build}` }).waitFor();
          await checkPage(page, 'admin-build', problems);
          await page.getByRole('button', { name: 'Remove build…' }).click();
          await page.getByRole('dialog', { name: `Remove build ${build}?` }).waitFor();
          // The question is modal: the Tab key stays in it.
          assert.deepEqual(
            await seriousViolations(page),
            [],
            'the question before removing a build: axe-core',
          );
          await screenshot(page, 'admin-build-remove');
          await page.getByRole('button', { name: 'Remove build', exact: true }).click();
          await page.getByRole('heading', { name: 'Builds', exact: true }).waitFor();
          await assert.rejects(server.session.builds.show(build), { code: 'NOT_FOUND' });
          const [profile] = await server.session.profiles.list();
          assert.equal(profile?.summary.finish, 'poweroff');
          assert.equal(profile.summary.adminPassword, 'given');
          const stored = await storedProfile(server, 'web');
          assert.match(stored, /finish: poweroff/);
          assert.ok(stored.includes(`adminPassword: ${JSON.stringify(PROFILE_PASSWORD)}`), stored);
          assert.ok(answers.length > 10);
          assert.deepEqual(
            answers.filter((body) => body.includes(PROFILE_PASSWORD)),
            [],
            "the profile's password reached the browser",
          );
          assert.deepEqual(
            urls.filter(
              (u) =>
                [token, first, second, PROFILE_PASSWORD].some((secret) => u.includes(secret)) ||
                /token=/i.test(u),
            ),
            [],
          );
          await context.close();

          // A viewer: their own tokens only; no users, no audit log, no editor; the API refuses them.
          const viewer = await browser.newContext({ viewport: LAPTOP });
          const seen = await viewer.newPage();
          const viewerProblems = watchPage(seen);
          await signIn(seen, server.url, 'watcher');
          const sections = seen.getByRole('navigation', { name: 'Sections' });
          assert.equal(await sections.getByRole('link', { name: 'Administration' }).count(), 0);
          await sections.getByRole('link', { name: 'API tokens' }).click();
          await seen.getByRole('heading', { name: 'API tokens' }).waitFor();
          await seen.locator('tr', { hasText: 'login from' }).first().waitFor();
          assert.equal(await seen.getByRole('navigation', { name: 'Administration' }).count(), 0);
          assert.equal(await seen.getByLabel(/^For user/).count(), 0);
          assert.doesNotMatch(await seen.getByRole('table').innerText(), /\broot\b/);
          await checkPage(seen, 'admin-viewer-tokens', viewerProblems);
          await seen.goto(`${server.url}/#/admin/users`);
          await seen.getByText('Your role does not allow this').waitFor();
          assert.equal(await seen.getByRole('table').count(), 0);
          await checkPage(seen, 'admin-viewer-users', viewerProblems);
          await seen.goto(`${server.url}/#/profiles/web`);
          await seen.getByLabel('The YAML of profile web').waitFor();
          assert.equal(await seen.getByRole('button', { name: 'Edit profile' }).count(), 0);
          assert.equal(await seen.getByRole('button', { name: 'Remove profile…' }).count(), 0);
          await seen.getByRole('link', { name: 'All profiles' }).click();
          await seen.getByRole('table').getByRole('link', { name: 'web' }).waitFor();
          assert.equal(await seen.getByRole('button', { name: 'New profile' }).count(), 0);
          await viewer.close();

          const login = await fetch(`${server.url}/api/v1/login`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ user: 'watcher', password: PASSWORD }),
          });
          const { token: watcher } = (await login.json()) as { token: string };
          assert.equal(await statusOf(server, watcher, 'GET', '/api/v1/users'), 403);
          assert.equal(await statusOf(server, watcher, 'GET', '/api/v1/audit'), 403);
          assert.equal(await statusOf(server, watcher, 'GET', '/api/v1/tokens?all=true'), 403);
          assert.equal(
            await statusOf(server, watcher, 'POST', '/api/v1/users', { name: 'mallory', role: 'admin' }),
            403,
          );
          assert.equal(await statusOf(server, watcher, 'PUT', '/api/v1/profiles/web', { yaml: shown }), 403);
          assert.ok((await storedProfile(server, 'web')).includes(JSON.stringify(PROFILE_PASSWORD)));
        } finally {
          await browser.close();
        }
      } finally {
        await server.close();
      }
    });
  },
);
