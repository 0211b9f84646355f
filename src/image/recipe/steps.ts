// The recipe steps that need no parser of their own: files, registry, firstboot, features and
// metadata, applied to an ImageWork. First-boot scripts run from SetupComplete.cmd, which Windows
// Setup runs as SYSTEM once setup ends (Microsoft, "Add a custom script to Windows Setup").

import { readFile } from 'node:fs/promises';
import { AppError } from '../../core/errors.ts';
import { decodeRegText, parseRegText } from '../../formats/regf/reg-text.ts';
import { applyRegText, resolveKeyPath } from '../registry.ts';
import { mapRegistryPath, type ImageHiveName } from './hive-paths.ts';
import { imagePath, type ImageWork } from './image-work.ts';
import type { FilesStep, FirstbootStep, FeaturesStep, MetadataStep, RegistryStep } from './recipe.ts';

/** A path pattern's component as a regular expression: `*` any run, `?` one character, no case. */
function componentPattern(component: string): RegExp {
  const body = component
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

/** The image paths `pattern` ('\\' or '/' separated, wildcards * and ? in any component) matches. */
export function matchImagePaths(paths: readonly string[], pattern: string): string[] {
  const parts = imagePath(pattern).split('/').slice(1).map(componentPattern);
  return paths.filter((p) => {
    const comps = p.split('/').slice(1);
    return comps.length === parts.length && parts.every((re, i) => re.test(comps[i] ?? ''));
  });
}

export async function applyFiles(work: ImageWork, step: FilesStep): Promise<void> {
  for (const r of step.remove) {
    const wild = /[*?]/.test(r.pattern);
    const matches = matchImagePaths(
      work.entries().map((e) => e.path),
      r.pattern,
    );
    if (matches.length === 0 && !wild) {
      throw new AppError('NOT_FOUND', `${r.where}: '${r.pattern}' is not in the image`, {
        hint: 'list the image with `winsmith image files`; a pattern with * may match nothing',
      });
    }
    for (const m of matches) {
      work.delete(m);
      work.record('remove', m);
    }
  }
  for (const r of step.rename) {
    if (work.entry(r.from) === undefined) {
      throw new AppError('NOT_FOUND', `${r.where}: '${r.from}' is not in the image`, {
        hint: 'list the image with `winsmith image files`',
      });
    }
    work.rename(r.from, r.to);
    work.record('rename', imagePath(r.from), imagePath(r.to));
  }
  for (const a of step.add) {
    if (work.entry(a.dest)?.isDir === true) {
      throw new AppError('INVALID_ARGUMENT', `${a.where}: dest '${a.dest}' is a folder in the image`, {
        hint: 'name the file, e.g. Folder\\name.txt',
      });
    }
    if (a.from === 'host') work.addFile(a.src, a.dest);
    else await work.addBytes(a.content, a.dest);
    work.record('add', imagePath(a.dest), a.from === 'host' ? a.src : 'inline content');
  }
}

/** Root prefixes of .reg key lines made root-relative, so one file may name several hives. */
function rootRelativeKeys(text: string): string {
  return text.replace(/^(\[-?)(?!\\)/gm, '$1\\');
}

export async function applyRegistry(work: ImageWork, step: RegistryStep): Promise<void> {
  for (const s of step.set) {
    const hive = await work.hive(s.path.hive, s.where);
    const path = resolveKeyPath(hive, s.path.key);
    hive.ensureKey(path).setValue(s.name, s.type, s.data);
    work.touchHive(s.path.hive);
    work.record('set', `${s.path.hive}\\${path.replace(/^\\/, '')}`, s.name === '' ? '(default)' : s.name);
  }
  for (const d of step.delete) {
    const hive = await work.hive(d.path.hive, d.where);
    const path = resolveKeyPath(hive, d.path.key);
    const done =
      d.name === undefined ? hive.deleteKey(path) : (hive.getKey(path)?.deleteValue(d.name) ?? false);
    if (!done) {
      work.warnings.push(
        `${d.where}: ${d.key}${d.name === undefined ? '' : ` value ${d.name}`} is not in the image; nothing deleted`,
      );
      continue;
    }
    work.touchHive(d.path.hive);
    work.record('delete', `${d.path.hive}\\${path.replace(/^\\/, '')}`, d.name);
  }
  for (const i of step.import) {
    const text = rootRelativeKeys(decodeRegText(new Uint8Array(await readFile(i.file))));
    let reg;
    try {
      reg = parseRegText(text);
    } catch (e) {
      if (e instanceof AppError)
        throw new AppError(e.code, `${i.file}: ${e.message}`, { hint: 'fix the line named', cause: e });
      throw e;
    }
    const byHive = new Map<ImageHiveName, (typeof reg.sections)[number][]>();
    for (const section of reg.sections) {
      let mapped;
      try {
        mapped = mapRegistryPath(section.path);
      } catch (e) {
        if (e instanceof AppError)
          throw new AppError(e.code, `${i.file}: ${e.message}`, { hint: e.hint ?? '', cause: e });
        throw e;
      }
      const list = byHive.get(mapped.hive) ?? [];
      list.push({ ...section, path: `\\${mapped.key}` });
      byHive.set(mapped.hive, list);
    }
    for (const [name, sections] of byHive) {
      const hive = await work.hive(name, i.where);
      const summary = applyRegText(hive, { sections });
      work.touchHive(name);
      work.record(
        'import',
        name,
        `${i.file}: ${summary.keysCreated} keys created, ${summary.valuesSet} values set, ${summary.keysDeleted + summary.valuesDeleted} deleted`,
      );
    }
  }
}

export function applyFirstboot(work: ImageWork, step: FirstbootStep): void {
  for (const s of step.scripts) {
    work.firstboot.push({ shell: s.shell, text: s.text, label: s.file ?? s.where });
    work.record('firstboot', s.shell, s.file ?? s.text.split(/\r?\n/)[0] ?? '');
  }
}

export function applyFeatures(work: ImageWork, step: FeaturesStep): void {
  const names = step.names.join(',');
  work.firstboot.push({
    shell: 'powershell',
    text: `Install-WindowsFeature -Name ${names} -IncludeManagementTools -ErrorAction Stop | Format-List`,
    label: `features: ${names}`,
  });
  for (const n of step.names) work.record('feature', n, 'Install-WindowsFeature at first boot');
}

export function applyMetadata(work: ImageWork, step: MetadataStep): void {
  for (const [name, value] of Object.entries(step.properties)) {
    work.properties[name] = value;
    work.record('property', name, value);
  }
}

export const SCRIPTS_DIR = 'Windows\\Setup\\Scripts';
export const SETUP_COMPLETE = `${SCRIPTS_DIR}\\SetupComplete.cmd`;
export const FIRSTBOOT_LOG = `${SCRIPTS_DIR}\\winsmith-firstboot.log`;

function crlf(text: string): string {
  return `${text.replace(/\r?\n/g, '\r\n').replace(/(\r\n)?$/, '')}\r\n`;
}

/**
 * Writes the first-boot scripts into `Windows\Setup\Scripts\winsmith-<id>\` and a SetupComplete.cmd
 * that runs them in order, logging each one's output to winsmith-firstboot.log. An existing
 * SetupComplete.cmd is kept in the folder and called first, so its work still happens.
 */
export async function writeFirstboot(work: ImageWork, id: string): Promise<void> {
  if (work.firstboot.length === 0) return;
  const folder = `${SCRIPTS_DIR}\\winsmith-${id}`;
  const log = `%WINDIR%\\Setup\\Scripts\\winsmith-firstboot.log`;
  const lines = [
    '@echo off',
    `rem winsmith first-boot scripts (steps ${id}); each one's output goes to ${FIRSTBOOT_LOG}`,
    `set "WINSMITH_LOG=${log}"`,
  ];
  const previous = await work.readImageFile(SETUP_COMPLETE);
  if (previous !== undefined) {
    await work.addBytes(previous, `${folder}\\00-previous-SetupComplete.cmd`);
    lines.push(`call "%WINDIR%\\Setup\\Scripts\\winsmith-${id}\\00-previous-SetupComplete.cmd"`);
    work.record(
      'keep',
      imagePath(`${folder}\\00-previous-SetupComplete.cmd`),
      "the image's SetupComplete.cmd, run first",
    );
  }
  for (const [i, s] of work.firstboot.entries()) {
    const name = `${String(i + 1).padStart(2, '0')}-${s.shell}.${s.shell === 'powershell' ? 'ps1' : 'cmd'}`;
    const path = `%WINDIR%\\Setup\\Scripts\\winsmith-${id}\\${name}`;
    await work.addBytes(crlf(s.text), `${folder}\\${name}`);
    work.record('add', imagePath(`${folder}\\${name}`), s.label);
    const run =
      s.shell === 'powershell'
        ? `powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -File "${path}"`
        : `cmd.exe /d /c "${path}"`;
    lines.push(
      `echo [%DATE% %TIME%] start ${name} >> "%WINSMITH_LOG%"`,
      `${run} >> "%WINSMITH_LOG%" 2>&1`,
      `echo [%DATE% %TIME%] end ${name}: exit code %ERRORLEVEL% >> "%WINSMITH_LOG%"`,
    );
  }
  await work.addBytes(crlf(lines.join('\n')), SETUP_COMPLETE);
  work.record(
    previous === undefined ? 'add' : 'replace',
    imagePath(SETUP_COMPLETE),
    `runs ${work.firstboot.length} first-boot scripts`,
  );
}
