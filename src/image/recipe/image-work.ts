// The state of one customization in progress: the session on the image being changed (a WIM image,
// or an applied volume's tree: src/image/recipe/directory-session.ts), its file list, the hives
// pulled out of the image and edited in memory, the files to add, the update commands, the
// first-boot scripts and the changes made so far. Everything is written at once by `commit`.

import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../../core/errors.ts';
import type { WimFileEntry, WimUpdateCommand } from '../../engines/wimlib.ts';
import { Hive } from '../../formats/regf/index.ts';
import { IMAGE_HIVE_PATHS, type ImageHiveName } from './hive-paths.ts';
import type { StepKind } from './recipe.ts';

export interface CustomizeChange {
  /** 1-based step number in the recipe. */
  readonly step: number;
  readonly kind: StepKind;
  /** add, remove, rename, set, delete, stage, register, write, property. */
  readonly action: string;
  /** An image path, a registry path, a driver INF or an image property. */
  readonly target: string;
  readonly detail?: string;
}

/** A change as one line: 'step 3 drivers: stage /Windows/Drivers/winsmith/viostor/viostor.inf (…)'. */
export function describeChange(c: CustomizeChange): string {
  return `step ${c.step} ${c.kind}: ${c.action} ${c.target}${c.detail === undefined ? '' : ` (${c.detail})`}`;
}

export interface FirstbootEntry {
  readonly shell: 'powershell' | 'cmd';
  readonly text: string;
  readonly label: string;
}

/** A file or folder of the image, as the steps look it up: its path ('/'-separated, from '/') and kind. */
export type ImageEntry = Pick<WimFileEntry, 'path' | 'isDir'>;

/**
 * What ImageWork needs of the image it changes (a WimSession, or a DirectorySession): files taken
 * out of it, and the additions, deletions, renames and image properties written in one go.
 */
export interface ImageSession {
  /** Extracts `paths` (absolute image paths) into `destDir`, each under its base name. */
  extract(paths: readonly string[], destDir: string): Promise<void>;
  commit(commands: readonly WimUpdateCommand[], properties: Readonly<Record<string, string>>): Promise<void>;
}

/** '/'-separated absolute image path from a recipe path ('\\' or '/', leading separator optional). */
export function imagePath(p: string): string {
  return `/${p.replace(/\\/g, '/').replace(/^\/+/, '').replace(/\/+$/, '')}`;
}

/** A hive's file in the image and its transaction logs (old .LOG, then .LOG1 and .LOG2). */
export function hiveFiles(name: ImageHiveName): string[] {
  const path = IMAGE_HIVE_PATHS[name];
  return [path, `${path}.LOG`, `${path}.LOG1`, `${path}.LOG2`];
}

export class ImageWork {
  readonly dir: string;
  readonly changes: CustomizeChange[] = [];
  readonly warnings: string[] = [];
  readonly firstboot: FirstbootEntry[] = [];
  readonly properties: Record<string, string> = {};
  readonly #files: Map<string, ImageEntry>;
  readonly #commands: WimUpdateCommand[] = [];
  readonly #hives = new Map<ImageHiveName, Hive>();
  readonly #dirtyHives = new Set<ImageHiveName>();
  /** Image paths this run writes, by lower-cased path → host file. */
  readonly #added = new Map<string, string>();
  /** Source files already extracted, by lower-cased image path → host file. */
  readonly #extracted = new Map<string, string>();
  #staged = 0;
  step = 0;
  kind: StepKind = 'files';

  readonly #session: ImageSession;

  constructor(options: { session: ImageSession; dir: string; files: readonly ImageEntry[] }) {
    this.#session = options.session;
    this.dir = options.dir;
    this.#files = new Map(options.files.map((f) => [f.path.toLowerCase(), f]));
  }

  record(action: string, target: string, detail?: string): void {
    this.changes.push({
      step: this.step,
      kind: this.kind,
      action,
      target,
      ...(detail === undefined ? {} : { detail }),
    });
  }

  /** The source image's entry at `path`, if the path exists there and is not removed by this run. */
  entry(path: string): ImageEntry | undefined {
    return this.#files.get(imagePath(path).toLowerCase());
  }

  /** Every entry of the source image (as the run has changed it), in listing order. */
  entries(): ImageEntry[] {
    return [...this.#files.values()];
  }

  /** Adds host file `source` at image path `dest` (replacing a file there). */
  addFile(source: string, dest: string): void {
    const path = imagePath(dest);
    this.#commands.push({ op: 'add', source, dest: path });
    this.#added.set(path.toLowerCase(), source);
    this.#files.set(path.toLowerCase(), { path, isDir: false });
  }

  /** Writes `bytes` to a scratch file and adds it at `dest`. */
  async addBytes(bytes: Uint8Array | string, dest: string): Promise<void> {
    const dir = join(this.dir, 'add', String(this.#staged++));
    await mkdir(dir, { recursive: true });
    const file = join(dir, 'file');
    await writeFile(file, bytes);
    this.addFile(file, dest);
  }

  delete(path: string): void {
    const p = imagePath(path);
    this.#commands.push({ op: 'delete', path: p });
    const prefix = `${p.toLowerCase()}/`;
    for (const key of [...this.#files.keys()])
      if (key === p.toLowerCase() || key.startsWith(prefix)) this.#files.delete(key);
  }

  rename(from: string, to: string): void {
    const f = imagePath(from);
    const t = imagePath(to);
    this.#commands.push({ op: 'rename', from: f, to: t });
    const prefix = `${f.toLowerCase()}/`;
    for (const [key, e] of [...this.#files.entries()]) {
      if (key === f.toLowerCase() || key.startsWith(prefix)) {
        this.#files.delete(key);
        const path = t + e.path.slice(f.length);
        this.#files.set(path.toLowerCase(), { ...e, path });
      }
    }
  }

  /**
   * Extracts the image's files among `paths` (those the image has) in one go, before anything
   * changes it.
   */
  async prefetch(paths: readonly string[]): Promise<void> {
    const wanted = new Map<string, ImageEntry>();
    for (const p of paths) {
      const e = this.entry(p);
      const key = imagePath(p).toLowerCase();
      if (e !== undefined && !e.isDir && !this.#extracted.has(key) && !this.#added.has(key))
        wanted.set(key, e);
    }
    // Each file lands under its base name: a name seen twice waits for its own extraction.
    const byName = new Map<string, [string, ImageEntry]>();
    for (const [key, e] of wanted) {
      const name = e.path.slice(e.path.lastIndexOf('/') + 1).toLowerCase();
      if (!byName.has(name)) byName.set(name, [key, e]);
    }
    if (byName.size === 0) return;
    const dest = join(this.dir, 'extract', String(this.#staged++));
    await mkdir(dest, { recursive: true });
    const list = [...byName.values()];
    await this.#session.extract(
      list.map(([, e]) => e.path),
      dest,
    );
    for (const [key, e] of list)
      this.#extracted.set(key, join(dest, e.path.slice(e.path.lastIndexOf('/') + 1)));
  }

  /** The bytes of an image file: from this run's additions, else extracted from the source. */
  async readImageFile(path: string): Promise<Uint8Array | undefined> {
    const key = imagePath(path).toLowerCase();
    const added = this.#added.get(key);
    if (added !== undefined) return new Uint8Array(await readFile(added));
    if (this.entry(path)?.isDir !== false) return undefined;
    await this.prefetch([path]);
    const host = this.#extracted.get(key);
    return host === undefined ? undefined : new Uint8Array(await readFile(host));
  }

  /** A hive of the image, read once (its transaction logs replayed) and kept for editing. */
  async hive(name: ImageHiveName, where: string): Promise<Hive> {
    const open = this.#hives.get(name);
    if (open !== undefined) return open;
    const path = IMAGE_HIVE_PATHS[name];
    await this.prefetch(hiveFiles(name));
    const bytes = await this.readImageFile(path);
    if (bytes === undefined) {
      throw new AppError(
        'NOT_FOUND',
        `${where}: the image has no ${name} hive (${path.replace(/\//g, '\\')})`,
        {
          hint: 'use a path into a hive the image holds',
        },
      );
    }
    const logs: Uint8Array[] = [];
    for (const logPath of hiveFiles(name).slice(1)) {
      const log = await this.readImageFile(logPath);
      if (log !== undefined && log.length > 0) logs.push(log);
    }
    let hive: Hive;
    try {
      hive = Hive.parse(bytes, { logs, replayLogs: true });
    } catch (e) {
      if (e instanceof AppError) {
        throw new AppError(e.code, `${path} in the image is not a usable hive: ${e.message}`, {
          hint: 'check the source image',
          cause: e,
        });
      }
      throw e;
    }
    this.#hives.set(name, hive);
    return hive;
  }

  /** Marks a hive changed: it is written back at commit. */
  touchHive(name: ImageHiveName): void {
    this.#dirtyHives.add(name);
  }

  /** Writes the changed hives, then the file changes and the image properties in one write. */
  async commit(): Promise<void> {
    for (const name of this.#dirtyHives) {
      const hive = this.#hives.get(name);
      if (hive !== undefined) await this.addBytes(hive.serialize(), IMAGE_HIVE_PATHS[name]);
    }
    await this.#session.commit(this.#commands, this.properties);
  }
}
