// `winsmith service install`: winsmith server as a systemd service. The unit is
// packaging/winsmith.service with this machine's paths put in (the launcher, the config, the data
// directory the config names); the `winsmith` system user; the config folder with a first
// server.yaml (kept when there is one); the data directory, owned by the user. Under --root the
// same is written into a staging tree; with --dry-run only the plan is returned. Nothing is
// started: systemd is told by the administrator (`systemctl daemon-reload`, `enable --now`).

import { chown, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError } from '../core/errors.ts';
import { configuredDataDir } from '../config/server-config.ts';
import { addSystemUser, findSystemUser } from '../engines/system-user.ts';
import { initialPasswordPath } from './initial-password.ts';

export const SERVICE_UNIT_TEMPLATE = fileURLToPath(
  new URL('../../packaging/winsmith.service', import.meta.url),
);

export const SERVICE_DEFAULTS = {
  user: 'winsmith',
  config: '/etc/winsmith/server.yaml',
  data: '/var/lib/winsmith',
  unit: '/etc/systemd/system/winsmith.service',
  listen: '0.0.0.0:8080',
} as const;

export interface ServiceInstallOptions {
  /** The filesystem root everything is written under ('/' for this machine). */
  readonly root: string;
  /** The `winsmith` launcher ExecStart runs (absolute). */
  readonly bin: string;
  readonly user: string;
  /** The server config the service reads (written when absent). */
  readonly config: string;
  /** The data directory a new config names. */
  readonly data: string;
  readonly listen: string;
  readonly unit: string;
  /** Replace a unit file that is there. */
  readonly force: boolean;
  readonly dryRun: boolean;
}

/** One thing the install does (or, with --dry-run, would do). */
export interface ServiceInstallStep {
  readonly action: 'user' | 'directory' | 'config' | 'unit';
  /** What it is about, as on the installed system (not under --root). */
  readonly path: string;
  readonly done: 'created' | 'kept' | 'replaced' | 'planned';
  readonly detail: string;
}

export interface ServiceInstallResult {
  readonly steps: readonly ServiceInstallStep[];
  readonly unitText: string;
  /** What the administrator runs next. */
  readonly next: readonly string[];
}

/**
 * The unit for this machine: the template with ExecStart running `bin` on `config`, the user and
 * group, and the data directory the only path written (StateDirectory= only when it is
 * /var/lib/winsmith, which systemd makes and owns for the user).
 */
export function renderServiceUnit(
  template: string,
  unit: { readonly bin: string; readonly user: string; readonly config: string; readonly data: string },
): string {
  const quoted = (path: string): string => (/[\s"'\\]/.test(path) ? JSON.stringify(path) : path);
  const values: Record<string, string | null> = {
    User: unit.user,
    Group: unit.user,
    ExecStart: `${quoted(unit.bin)} server --config ${quoted(unit.config)}`,
    ReadWritePaths: quoted(unit.data),
    StateDirectory: unit.data === SERVICE_DEFAULTS.data ? 'winsmith' : null,
    StateDirectoryMode: unit.data === SERVICE_DEFAULTS.data ? '0750' : null,
  };
  return template
    .split('\n')
    .flatMap((line) => {
      const key = /^([A-Za-z]+)=/.exec(line)?.[1];
      if (key === undefined || !Object.hasOwn(values, key)) return [line];
      const value = values[key];
      return value === null || value === undefined ? [] : [`${key}=${value}`];
    })
    .join('\n');
}

/** The first config of a service: where its data is, where it listens, its log level. */
export function serviceConfigText(data: string, listen: string): string {
  return [
    '# winsmith server, run by systemd (winsmith.service). See docs/server.md for every setting.',
    `data: ${JSON.stringify(data)}`,
    `listen: ${JSON.stringify(listen)}`,
    'log:',
    '  level: info',
    '# Prometheus scrapes GET /metrics from these addresses (or with the token metrics.tokenEnv names).',
    'metrics:',
    '  allow: [127.0.0.0/8, "::1"]',
    '',
  ].join('\n');
}

async function readIfThere(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

export async function installService(options: ServiceInstallOptions): Promise<ServiceInstallResult> {
  const at = (path: string): string => join(options.root, path);
  const steps: ServiceInstallStep[] = [];
  const step = (s: ServiceInstallStep): void => void steps.push(s);
  const planned = options.dryRun;

  // The config first: the data directory the service writes is the one it names.
  const existingConfig = await readIfThere(at(options.config));
  const configText = existingConfig ?? serviceConfigText(options.data, options.listen);
  const data = configuredDataDir(configText, options.config);
  const unitText = renderServiceUnit(await readFile(SERVICE_UNIT_TEMPLATE, 'utf8'), {
    bin: options.bin,
    user: options.user,
    config: options.config,
    data,
  });
  const existingUnit = await readIfThere(at(options.unit));
  if (existingUnit !== null && existingUnit !== unitText && !options.force) {
    throw new AppError('ALREADY_EXISTS', `${at(options.unit)} exists and differs from the unit to write`, {
      hint: 'pass --force to replace it (see the new one with --dry-run)',
    });
  }

  let user = await findSystemUser(options.root, options.user);
  const userDone = user !== null ? 'kept' : planned ? 'planned' : 'created';
  if (user === null && !planned) {
    if (options.root !== '/') await ensurePasswdFiles(options.root);
    user = await addSystemUser(options.root, { name: options.user, home: data, comment: 'winsmith server' });
  }
  step({
    action: 'user',
    path: options.user,
    done: userDone,
    detail: user === null ? `system user and group ${options.user}, no login shell` : `uid ${user.uid}`,
  });

  const configDir = dirname(options.config);
  if (!planned) await mkdir(at(configDir), { recursive: true, mode: 0o755 });
  if (existingConfig === null) {
    if (!planned) {
      await writeFile(at(options.config), configText, { mode: 0o640, flag: 'wx' });
      if (user !== null) await chown(at(options.config), 0, user.gid);
    }
    step({
      action: 'config',
      path: options.config,
      done: planned ? 'planned' : 'created',
      detail: `data ${data}, listen ${options.listen}`,
    });
  } else {
    step({ action: 'config', path: options.config, done: 'kept', detail: `data ${data}` });
  }

  const dataThere = (await stat(at(data)).catch(() => null)) !== null;
  if (!planned) {
    await mkdir(dirname(at(data)), { recursive: true });
    if (!dataThere) await mkdir(at(data), { mode: 0o750 });
    if (user !== null) await chown(at(data), user.uid, user.gid);
  }
  step({
    action: 'directory',
    path: data,
    done: dataThere ? 'kept' : planned ? 'planned' : 'created',
    detail: `the data directory, mode 0750, owned by ${options.user}`,
  });

  const unitSame = existingUnit === unitText;
  if (!planned && !unitSame) {
    await mkdir(dirname(at(options.unit)), { recursive: true });
    await writeFile(at(options.unit), unitText, { mode: 0o644 });
  }
  step({
    action: 'unit',
    path: options.unit,
    done: unitSame ? 'kept' : planned ? 'planned' : existingUnit === null ? 'created' : 'replaced',
    detail: `ExecStart=${options.bin} server --config ${options.config}`,
  });

  return {
    steps,
    unitText,
    next: [
      'systemctl daemon-reload',
      'systemctl enable --now winsmith',
      `cat ${initialPasswordPath(data)}   # the first admin's password, after the first start`,
    ],
  };
}

/** A staging root's account files, empty, for useradd --prefix to add to. */
async function ensurePasswdFiles(root: string): Promise<void> {
  await mkdir(join(root, 'etc'), { recursive: true });
  for (const [file, mode] of [
    ['passwd', 0o644],
    ['group', 0o644],
    ['shadow', 0o640],
    ['gshadow', 0o640],
  ] as const) {
    await writeFile(join(root, 'etc', file), '', { mode, flag: 'a' });
  }
}
