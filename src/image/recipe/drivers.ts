// The drivers step, done the way virt-v2v injects virtio drivers (libguestfs-common
// mlcustomize/inject_virtio_win.ml; notes in research/windows-formats.md §3.3):
// - every INF in the named folders is parsed (src/formats/inf.ts) and must install on the image's
//   architecture and Windows version; an INF for another one is an error, not a silent skip;
// - the package (INF, catalog, the files its SourceDisksFiles name) is staged in
//   Windows\Drivers\winsmith\<package>\, a folder added to SOFTWARE ...\CurrentVersion\DevicePath,
//   and installed at first boot by `pnputil /add-driver <inf> /install`;
// - a boot-critical storage driver (Class SCSIAdapter or HDC) is also registered so the first boot
//   can use its controller: its .sys in System32\drivers, the service key (Start=0, the INF's
//   type, error control and load order group), and the device IDs bound to it in DriverDatabase
//   (Windows 8 and later) or in Control\CriticalDeviceDatabase (before).
// Files the INF names that are not in the folder are reported as warnings and left out; a
// boot-critical driver without its .sys is staged for pnputil but not registered for boot (a
// service whose binary is missing cannot start the controller).

import { readdir, readFile } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { AppError } from '../../core/errors.ts';
import { encodeGuid } from '../../formats/guid.ts';
import {
  parseInf,
  readInfDriver,
  readInfInstall,
  selectModelsSections,
  sourceFilesFor,
  type InfArch,
  type InfDocument,
  type InfDriver,
  type InfService,
  type InfTargetSystem,
} from '../../formats/inf.ts';
import { encodeRegData, REG_TYPES, type Hive } from '../../formats/regf/index.ts';
import type { WimEdition } from '../wim-info.ts';
import { resolveKeyPath } from '../registry.ts';
import { imagePath, type ImageWork } from './image-work.ts';
import type { DriversStep } from './recipe.ts';

/** Where packages are staged in the image, and the DevicePath entry that makes PnP look there. */
export const DRIVERS_DIR = 'Windows\\Drivers\\winsmith';
export const DEVICE_PATH_ENTRY = '%SystemRoot%\\Drivers\\winsmith';
const DEVICE_PATH_KEY = 'Microsoft\\Windows\\CurrentVersion';

/** Setup classes of storage controllers Windows needs at boot. */
const BOOT_CRITICAL_CLASSES = ['scsiadapter', 'hdc'];
/** How deep driver folders are searched for INFs (virtio-win: driver\os\arch). */
const MAX_DEPTH = 6;
/** SPSVCINST_ASSOCSERVICE: the AddService entry that is the device's function driver. */
const SPSVCINST_ASSOCSERVICE = 0x2;
/** A DeviceIds entry binding an ID to an INF (what Windows writes: rank flags 01 ff 00 00). */
const DEVICE_ID_BINDING = new Uint8Array([0x01, 0xff, 0x00, 0x00]);
/** The driver store suffix of packages staged by winsmith (Windows uses a hash; any 16 hex digits do). */
const STORE_ID = '0000000000000000';

/** The Windows an image holds, as INF decorations name it, from its WIM XML. */
export function imageTargetSystem(edition: WimEdition): InfTargetSystem {
  const [major, minor, build] = (edition.build ?? '').split('.').map(Number);
  if (
    edition.arch === null ||
    major === undefined ||
    minor === undefined ||
    build === undefined ||
    [major, minor, build].some(Number.isNaN)
  ) {
    throw new AppError(
      'FORMAT_UNSUPPORTED',
      `image ${edition.index} does not say its architecture and Windows version in the WIM XML`,
      {
        hint: 'driver injection needs the WINDOWS/ARCH and VERSION the WIM XML of a captured Windows holds',
      },
    );
  }
  const server = (edition.installationType ?? '').toLowerCase().startsWith('server');
  return { arch: edition.arch, major, minor, build, ...(server ? { productType: 3 } : {}) };
}

async function findInfs(dir: string, depth = 0): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const out: string[] = [];
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const p = join(dir, e.name);
    if (e.isFile() && e.name.toLowerCase().endsWith('.inf')) out.push(p);
    else if (e.isDirectory() && depth < MAX_DEPTH) out.push(...(await findInfs(p, depth + 1)));
  }
  return out;
}

function describe(system: InfTargetSystem): string {
  return `${system.arch} Windows ${system.major}.${system.minor}.${system.build}`;
}

function decorations(driver: InfDriver): string {
  const list = driver.modelsSections.map((s) => s.targetOs?.text ?? '(undecorated)');
  return list.length === 0 ? 'none' : list.join(', ');
}

interface Package {
  readonly infPath: string;
  readonly doc: InfDocument;
  readonly driver: InfDriver;
  readonly name: string;
}

async function readPackage(infPath: string, system: InfTargetSystem, where: string): Promise<Package> {
  let doc: InfDocument;
  let driver: InfDriver;
  try {
    doc = parseInf(new Uint8Array(await readFile(infPath)));
    driver = readInfDriver(doc);
  } catch (e) {
    if (e instanceof AppError)
      throw new AppError(e.code, `${where}: ${infPath}: ${e.message}`, {
        hint: 'check the INF file',
        cause: e,
      });
    throw e;
  }
  if (selectModelsSections(driver, system).length === 0) {
    const arches = [...new Set(driver.modelsSections.map((s) => s.targetOs?.arch ?? 'x86'))];
    const otherArch = !arches.includes(system.arch);
    throw new AppError(
      'INVALID_ARGUMENT',
      `${where}: ${infPath} does not install on this image (${describe(system)}): ` +
        (otherArch ? `it is for ${arches.join(', ')}` : 'it needs a newer Windows') +
        ` — its models sections are for ${decorations(driver)}`,
      { hint: `use the driver folder built for ${system.arch} and this Windows version` },
    );
  }
  return { infPath, doc, driver, name: basename(infPath, '.inf').toLowerCase() };
}

/** The host file of `name` in the package folder (any letter case), undefined when absent. */
async function findHostFile(dir: string, name: string): Promise<string | undefined> {
  const parts = name.split(/[\\/]/).filter((p) => p !== '');
  let current = dir;
  for (const part of parts) {
    const entries = await readdir(current).catch(() => [] as string[]);
    const hit = entries.find((e) => e.toLowerCase() === part.toLowerCase());
    if (hit === undefined) return undefined;
    current = join(current, hit);
  }
  return current;
}

function catalogName(driver: InfDriver, arch: InfArch): string | undefined {
  return driver.version.catalogFiles[`nt${arch}`] ?? driver.version.catalogFile;
}

function setValue(
  hive: Hive,
  key: string,
  name: string,
  type: number,
  data: string | readonly string[] | number | Uint8Array,
): void {
  hive.ensureKey(key).setValue(name, type, data instanceof Uint8Array ? data : encodeRegData(type, data));
}

/** The function driver's service among the AddService entries (the one flagged ASSOCSERVICE). */
function mainService(services: readonly InfService[]): InfService | undefined {
  return services.find((s) => (s.flags & SPSVCINST_ASSOCSERVICE) !== 0) ?? services[0];
}

function registerBootDriver(
  work: ImageWork,
  system: Hive,
  pkg: Package,
  arch: InfArch,
  hardwareIds: readonly string[],
  service: InfService,
  sysName: string,
): void {
  const ccs = resolveKeyPath(system, 'CurrentControlSet');
  const svcKey = `${ccs}\\Services\\${service.name}`;
  setValue(system, svcKey, 'Type', REG_TYPES.REG_DWORD, service.serviceType ?? 1);
  setValue(system, svcKey, 'Start', REG_TYPES.REG_DWORD, 0);
  setValue(system, svcKey, 'ErrorControl', REG_TYPES.REG_DWORD, service.errorControl ?? 1);
  setValue(system, svcKey, 'ImagePath', REG_TYPES.REG_EXPAND_SZ, `System32\\drivers\\${sysName}`);
  if (service.loadOrderGroup !== undefined)
    setValue(system, svcKey, 'Group', REG_TYPES.REG_SZ, service.loadOrderGroup);
  work.record('register', `SYSTEM${svcKey}`, `Start=0, Group=${service.loadOrderGroup ?? '(none)'}`);
  const classGuid = pkg.driver.version.classGuid ?? '';
  const inf = `${pkg.name}.inf`;
  if (system.getKey('DriverDatabase') !== undefined) {
    const pkgId = `${inf}_${arch}_${STORE_ID}`;
    const conf = `${pkg.name}_conf`;
    const db = 'DriverDatabase';
    setValue(system, `${db}\\DriverInfFiles\\${inf}`, '', REG_TYPES.REG_MULTI_SZ, [pkgId]);
    setValue(system, `${db}\\DriverInfFiles\\${inf}`, 'Active', REG_TYPES.REG_SZ, pkgId);
    setValue(system, `${db}\\DriverInfFiles\\${inf}`, 'Configurations', REG_TYPES.REG_MULTI_SZ, [conf]);
    const version = new Uint8Array(48);
    version.set([0x00, 0xff, 0x09, 0x00], 0);
    if (classGuid !== '') version.set(encodeGuid(classGuid), 8);
    const pkgKey = `${db}\\DriverPackages\\${pkgId}`;
    setValue(system, pkgKey, '', REG_TYPES.REG_SZ, inf);
    setValue(system, pkgKey, 'Provider', REG_TYPES.REG_SZ, pkg.driver.version.provider ?? '');
    setValue(system, pkgKey, 'Version', REG_TYPES.REG_BINARY, version);
    setValue(system, `${pkgKey}\\Configurations\\${conf}`, 'ConfigFlags', REG_TYPES.REG_DWORD, 0);
    setValue(system, `${pkgKey}\\Configurations\\${conf}`, 'Service', REG_TYPES.REG_SZ, service.name);
    for (const id of hardwareIds) {
      setValue(system, `${db}\\DeviceIds\\${id}`, inf, REG_TYPES.REG_BINARY, DEVICE_ID_BINDING);
      setValue(system, `${pkgKey}\\Descriptors\\${id}`, 'Configuration', REG_TYPES.REG_SZ, conf);
    }
    work.record('register', `SYSTEM\\${pkgKey}`, `DriverDatabase: ${hardwareIds.length} device IDs`);
  } else {
    for (const id of hardwareIds) {
      const key = `${ccs}\\Control\\CriticalDeviceDatabase\\${id.replace(/\\/g, '#')}`;
      setValue(system, key, 'Service', REG_TYPES.REG_SZ, service.name);
      setValue(system, key, 'ClassGUID', REG_TYPES.REG_SZ, classGuid.toUpperCase());
    }
    work.record(
      'register',
      `SYSTEM${ccs}\\Control\\CriticalDeviceDatabase`,
      `${hardwareIds.length} device IDs`,
    );
  }
}

export async function applyDrivers(work: ImageWork, step: DriversStep, edition: WimEdition): Promise<void> {
  const target = imageTargetSystem(edition);
  const packages: (Package & { dir: string; where: string })[] = [];
  for (const folder of step.folders) {
    const infs = await findInfs(folder.dir);
    if (infs.length === 0) {
      throw new AppError('NOT_FOUND', `${folder.where}: ${folder.dir} holds no .inf file`, {
        hint: 'name folders of driver packages (each with its INF)',
      });
    }
    for (const inf of infs)
      packages.push({
        ...(await readPackage(inf, target, folder.where)),
        dir: join(inf, '..'),
        where: folder.where,
      });
  }
  const used = new Set<string>();
  const commands: string[] = [];
  for (const pkg of packages) {
    let folderName = pkg.name;
    for (let n = 2; used.has(folderName); n++) folderName = `${pkg.name}-${n}`;
    used.add(folderName);
    const dest = `${DRIVERS_DIR}\\${folderName}`;
    const wanted = [
      basename(pkg.infPath),
      ...[catalogName(pkg.driver, target.arch)].filter((c) => c !== undefined),
      ...sourceFilesFor(pkg.driver, target.arch).map((f) =>
        f.subdir === undefined ? f.name : `${f.subdir}\\${f.name}`,
      ),
    ];
    const missing: string[] = [];
    const hostFiles = new Map<string, string>();
    for (const name of new Set(wanted)) {
      const host = await findHostFile(pkg.dir, name);
      if (host === undefined) missing.push(name);
      else {
        hostFiles.set(name.toLowerCase(), host);
        const inImage = `${dest}\\${relative(pkg.dir, host).replace(/\//g, '\\')}`;
        work.addFile(host, inImage);
        work.record('stage', imagePath(inImage), pkg.infPath);
      }
    }
    if (missing.length > 0) {
      work.warnings.push(
        `${pkg.where}: ${pkg.infPath}: the package folder lacks ${missing.join(', ')}; staged without them`,
      );
    }
    commands.push(
      `pnputil.exe /add-driver "%WINDIR%\\Drivers\\winsmith\\${folderName}\\${basename(pkg.infPath)}" /install`,
    );
    const cls = (pkg.driver.version.class ?? '').toLowerCase();
    if (!BOOT_CRITICAL_CLASSES.includes(cls)) continue;
    const models = selectModelsSections(pkg.driver, target).flatMap((s) => s.models);
    const [first] = models;
    if (first === undefined) continue;
    const install = readInfInstall(pkg.doc, pkg.driver, first, target.arch);
    const service = mainService(install.services);
    const binary = service?.serviceBinary?.split('\\').pop();
    if (service === undefined || binary === undefined) continue;
    const sys = hostFiles.get(binary.toLowerCase()) ?? (await findHostFile(pkg.dir, binary));
    if (sys === undefined) {
      work.warnings.push(
        `${pkg.where}: ${pkg.infPath}: ${binary} is missing, so the boot-critical driver ${service.name} is not registered for boot (pnputil installs it at first boot once the files are there)`,
      );
      continue;
    }
    work.addFile(sys, `Windows\\System32\\drivers\\${binary}`);
    work.record('add', `/Windows/System32/drivers/${binary}`, pkg.infPath);
    const hive = await work.hive('SYSTEM', pkg.where);
    const ids = [...new Set(models.map((m) => m.hardwareId).filter((id) => id !== undefined))];
    registerBootDriver(work, hive, pkg, target.arch, ids, service, binary);
    work.touchHive('SYSTEM');
  }
  const software = await work.hive('SOFTWARE', step.folders[0]?.where ?? 'drivers');
  const key = software.ensureKey(DEVICE_PATH_KEY);
  const current = key.value('DevicePath');
  const text =
    current === undefined
      ? '%SystemRoot%\\inf'
      : new TextDecoder('utf-16le').decode(current.data).replace(/\0+$/, '');
  if (!text.split(';').some((p) => p.toLowerCase() === DEVICE_PATH_ENTRY.toLowerCase())) {
    const next = `${text};${DEVICE_PATH_ENTRY}`;
    key.setValue('DevicePath', REG_TYPES.REG_EXPAND_SZ, encodeRegData(REG_TYPES.REG_EXPAND_SZ, next));
    work.touchHive('SOFTWARE');
    work.record('set', `SOFTWARE\\${DEVICE_PATH_KEY}`, `DevicePath=${next}`);
  }
  work.firstboot.push({
    shell: 'cmd',
    text: commands.join('\n'),
    label: `drivers: ${packages.map((p) => p.name).join(', ')}`,
  });
  work.record('firstboot', 'cmd', `pnputil /add-driver for ${packages.length} packages`);
}
