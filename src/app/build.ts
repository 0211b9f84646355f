// `winsmith build`: a reference image made from a Windows Server ISO (or a stored image serviced)
// in a VM on this machine, as the recipe says, then captured, customized and stored. Combines the
// build domain (recipe, answer media, VM run), the image domain (media, disk capture, customize,
// disks), and the repository of the caller's session (the output, and a serviced source). The
// build's folder holds its record (build.json), the answer media, the disk's layers, the serial log
// and the last screenshot; a failed build keeps them all and resumes from its last finished phase.

import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { AppError } from '../core/errors.ts';
import { formatImageRef } from '../core/names.ts';
import type { ProgressListener } from '../core/progress.ts';
import { kvmUnavailable } from '../engines/kvm.ts';
import { convertDisk } from '../engines/qemu-img.ts';
import { writeAnswerMedia } from '../build/answer-media.ts';
import { type AnswerSettings } from '../build/autounattend.ts';
import {
  loadBuildRecipe,
  BUILD_PHASES,
  type BuildPhase,
  type BuildRecipe,
  type RecipeReading,
} from '../build/build-recipe.ts';
import { readBuildRecord, recordReport, writeBuildRecord, type BuildRecord } from '../build/build-record.ts';
import type { BuildReport } from '../build/build-report.ts';
import type { Accelerator } from '../build/build-vm.ts';
import { diskLayer, ReportInbox, runBuildVm } from '../build/build-vm-run.ts';
import { deployUnattend } from '../build/deploy-unattend.ts';
import { chooseEdition, type ChosenEdition } from '../build/edition.ts';
import { answerMediaFiles } from '../build/provision-plan.ts';
import { ReportListener, tokenDigest } from '../build/report-listener.ts';
import { buildDiskImage } from '../image/disk/build.ts';
import { captureDisk } from '../image/disk/capture-disk.ts';
import { readMediaInfo } from '../image/media.ts';
import { customizeImageInPlace } from '../image/recipe/customize.ts';
import { loadWimInfo } from '../image/wim-ref.ts';
import { sha256OfFile } from '../io/file-sha256.ts';
import { writeOutputFile } from '../io/output.ts';
import { artifactMetaOf } from './artifact-meta.ts';
import type { Session } from './session.ts';
import { pullFile, pushFile } from './transfer.ts';
import { winsmithVersion } from './version.ts';

const ANSWER_ISO = 'answer.iso';
const SOURCE_WIM = 'source.wim';
const BASE_DISK = 'disk-base.qcow2';
const CAPTURED_WIM = 'captured.wim';

/** What the CLI shows as a build goes. */
export interface BuildEvents {
  line(text: string): void;
  progress: ProgressListener;
  /** The record, each time it is written (a phase, a boot, a step reported, the end). */
  saved?(record: BuildRecord): void;
}

export interface BuildRequest {
  readonly recipe: string;
  /** How the recipe is read when it is not a file here (a recipe sent to a server); again on resume. */
  readonly reading?: RecipeReading;
  /** The build's folder: made, must not hold anything yet. */
  readonly work: string;
  /**
   * The repository of the build's owner (a serviced source is pulled from it, the output pushed to
   * it), as the owner's rights stand when it is asked for: a build runs for hours.
   */
  readonly repository: () => Promise<Session['images']>;
  /** 'auto' tries KVM (by starting a VM with it) and falls back to TCG with a warning. */
  readonly accelerator: 'auto' | Accelerator;
  readonly events: BuildEvents;
  readonly signal: AbortSignal;
  /** Replace the recipe's output.disk when it exists (`--force`). */
  readonly force?: boolean;
}

async function chooseAccelerator(
  wanted: BuildRequest['accelerator'],
  events: BuildEvents,
): Promise<Accelerator> {
  if (wanted !== 'auto') return wanted;
  const why = await kvmUnavailable();
  if (why === null) return 'kvm';
  events.line(
    `warning: KVM does not work here (${why}); the VM runs under TCG, and a real Windows install will take hours`,
  );
  return 'tcg';
}

async function emptyFolder(work: string): Promise<void> {
  await mkdir(work, { recursive: true, mode: 0o700 });
  if ((await readdir(work)).length > 0) {
    throw new AppError('ALREADY_EXISTS', `${work} is not empty`, {
      hint: 'give a new folder with --work, or resume the build in it with `winsmith build resume`',
    });
  }
}

/** The ISO checked against its pin, and the edition chosen on it. */
async function isoSource(
  recipe: BuildRecipe & { source: { kind: 'iso' } },
  events: BuildEvents,
): Promise<ChosenEdition> {
  events.line(`checking ${recipe.source.iso} against its SHA-256`);
  const sha256 = await sha256OfFile(recipe.source.iso);
  if (sha256 !== recipe.source.sha256) {
    throw new AppError(
      'FORMAT_INVALID',
      `${recipe.source.iso} has the SHA-256 ${sha256}; ${recipe.file} pins ${recipe.source.sha256}`,
      { hint: 'use the ISO the recipe was written for, or pin this one (sha256sum FILE.iso)' },
    );
  }
  const media = await readMediaInfo(recipe.source.iso);
  return chooseEdition(media.install.images, recipe.source.edition, `${recipe.file}: source.edition`);
}

function newRecord(
  recipe: BuildRecipe,
  edition: ChosenEdition,
  source: BuildRecord['source'],
  accelerator: Accelerator,
  tokenSha256: string,
): BuildRecord {
  const phase = { state: 'pending' as const, startedAt: null, endedAt: null, boots: 0 };
  return {
    format: 1,
    id: randomUUID(),
    createdAt: new Date().toISOString(),
    winsmithVersion: winsmithVersion(),
    recipe: { file: recipe.file, sha256: recipe.sha256, text: recipe.text },
    source,
    edition,
    accelerator,
    tokenSha256,
    reportPort: 0,
    qemuArgs: [],
    state: 'running',
    phases: { install: { ...phase }, provision: { ...phase }, generalize: { ...phase } },
    steps: recipe.provision.map((s, index) => ({
      index,
      kind: s.kind,
      where: s.where,
      state: 'pending',
      startedAt: null,
      endedAt: null,
      rounds: 0,
      outputSha256: null,
      output: null,
    })),
    error: null,
    result: null,
  };
}

/** Starts a build in a new folder and runs it to the end. */
export async function startBuild(request: BuildRequest): Promise<BuildRecord> {
  const work = resolve(request.work);
  const recipe = await loadBuildRecipe(request.recipe, request.reading);
  await emptyFolder(work);
  const { events } = request;
  let edition: ChosenEdition;
  let source: BuildRecord['source'];
  if (recipe.source.kind === 'iso') {
    edition = await isoSource({ ...recipe, source: recipe.source }, events);
    source = { kind: 'iso', path: recipe.source.iso, sha256: recipe.source.sha256 };
  } else {
    const wim = join(work, SOURCE_WIM);
    events.line(`pulling ${formatImageRef(recipe.source.image)}`);
    const pulled = await pullFile(await request.repository(), recipe.source.image, wim, {
      progress: events.progress,
    });
    const info = await loadWimInfo(wim);
    edition = chooseEdition(info.images, recipe.source.edition, `${recipe.file}: source.edition`);
    source = { kind: 'image', ref: formatImageRef(recipe.source.image), digest: pulled.image.digest };
    events.line(`making its disk (${recipe.vm.firmware})`);
    await buildDiskImage({
      source: `${wim}:${edition.index}`,
      output: join(work, BASE_DISK),
      format: 'qcow2',
      firmware: recipe.vm.firmware,
      size: recipe.vm.diskBytes,
      onProgress: events.progress,
    });
    await rm(wim);
  }
  const accelerator = await chooseAccelerator(request.accelerator, events);
  const token = randomBytes(32).toString('base64url');
  const record = newRecord(recipe, edition, source, accelerator, tokenDigest(token));
  await writeBuildRecord(work, record);

  const answer: AnswerSettings = {
    firmware: recipe.vm.firmware,
    edition,
    productKey: recipe.source.kind === 'iso' ? recipe.source.productKey : 'kms',
    locale: recipe.source.locale,
    timeZone: recipe.source.timeZone,
    adminPassword: randomBytes(18).toString('base64url'),
  };
  const reports = await openReports(work, record, events, 0);
  record.reportPort = reports.listener.port;
  await reports.save();
  const reportUrl = reports.listener.guestUrl(record.id);
  const unattend = deployUnattend(
    recipe.generalize.unattend === null ? null : await readFile(recipe.generalize.unattend),
    recipe.generalize.copyProfile,
  );
  const { files } = answerMediaFiles(recipe, answer, { build: record.id, reportUrl, token }, unattend);
  await writeAnswerMedia(join(work, ANSWER_ISO), files);
  return runFrom(work, record, recipe, request, reports);
}

interface Reports {
  readonly listener: ReportListener;
  readonly inbox: ReportInbox;
  /** Writes the record; writes are made one after the other, in order. */
  readonly save: () => Promise<void>;
}

/** The build's report listener (on `port`, or a free one), recording each report as it comes. */
async function openReports(
  work: string,
  record: BuildRecord,
  events: BuildEvents,
  port: number,
): Promise<Reports> {
  let saving = Promise.resolve();
  const save = (): Promise<void> =>
    (saving = saving.then(async () => {
      await writeBuildRecord(work, record);
      events.saved?.(record);
    }));
  const inbox = new ReportInbox();
  const listener = await ReportListener.start(
    record.id,
    record.tokenSha256,
    (report: BuildReport) => {
      recordReport(record, report, new Date().toISOString());
      events.line(describeReport(record, report));
      inbox.deliver(report);
      void save();
    },
    port,
  );
  return { listener, inbox, save };
}

/** Resumes the build in `work` from its last finished phase. */
export async function resumeBuild(
  request: Omit<BuildRequest, 'recipe' | 'accelerator'>,
): Promise<BuildRecord> {
  const work = resolve(request.work);
  const record = await readBuildRecord(work);
  if (record.state === 'done') {
    throw new AppError('CONFLICT', `the build in ${work} is done`, {
      hint: 'start a new build with --work NEW',
    });
  }
  const recipe = await loadBuildRecipe(record.recipe.file, request.reading);
  if (recipe.sha256 !== record.recipe.sha256) {
    throw new AppError('CONFLICT', `${record.recipe.file} changed since the build in ${work} started`, {
      hint: 'start a new build for the changed recipe',
    });
  }
  record.state = 'running';
  record.error = null;
  const reports = await openReports(work, record, request.events, record.reportPort);
  return runFrom(
    work,
    record,
    recipe,
    { ...request, recipe: record.recipe.file, accelerator: record.accelerator },
    reports,
  );
}

async function runFrom(
  work: string,
  record: BuildRecord,
  recipe: BuildRecipe,
  request: BuildRequest,
  reports: Reports,
): Promise<BuildRecord> {
  const { events } = request;
  const { save, inbox, listener } = reports;
  try {
    const from = BUILD_PHASES.find((p) => record.phases[p].state !== 'done') ?? null;
    let disk = diskLayer(work, 'generalize');
    if (from !== null) {
      const at = (): string => new Date().toISOString();
      disk = await runBuildVm(
        {
          dir: work,
          vm: recipe.vm,
          installIso: recipe.source.kind === 'iso' ? recipe.source.iso : null,
          answerIso: join(work, ANSWER_ISO),
          baseDisk: recipe.source.kind === 'image' ? join(work, BASE_DISK) : null,
          accelerator: record.accelerator,
          from,
          signal: request.signal,
          events: {
            phase(phase: BuildPhase) {
              record.phases[phase] = { state: 'running', startedAt: at(), endedAt: null, boots: 1 };
              events.line(`phase ${phase}`);
              void save();
            },
            qemu(args: readonly string[]) {
              record.qemuArgs = args;
            },
            boot(phase: BuildPhase, count: number) {
              record.phases[phase].boots = count;
              void save();
            },
            checkpoint(phase: BuildPhase) {
              record.phases[phase].state = 'done';
              record.phases[phase].endedAt = at();
              events.line(`phase ${phase} done`);
              void save();
            },
          },
        },
        inbox,
      );
    }
    record.result = await captureAndStore(work, record, recipe, request, disk);
    record.state = 'done';
    await save();
    await rm(join(work, ANSWER_ISO), { force: true });
    for (const p of BUILD_PHASES) await rm(diskLayer(work, p), { force: true });
    await rm(join(work, BASE_DISK), { force: true });
    return record;
  } catch (e) {
    record.state = 'failed';
    record.error = e instanceof Error ? e.message : String(e);
    for (const p of BUILD_PHASES) if (record.phases[p].state === 'running') record.phases[p].state = 'failed';
    await save();
    throw e;
  } finally {
    await listener.close();
  }
}

function describeReport(record: BuildRecord, report: BuildReport): string {
  if (!('step' in report)) return `guest: ${report.event}`;
  const step = record.steps[report.step];
  const name =
    step === undefined ? `step ${report.step + 1}` : `step ${report.step + 1} (${step.kind}, ${step.where})`;
  switch (report.event) {
    case 'start':
      return `${name} started`;
    case 'end':
      return `${name} ${report.ok ? 'done' : 'failed'}`;
    case 'round':
      return `${name}: updates installed, restarting for round ${report.round + 2}`;
    case 'restart':
      return `restarting before step ${report.step + 1}`;
  }
}

/** Captures the generalized disk, applies the recipe's customize: steps, stores and writes the outputs. */
async function captureAndStore(
  work: string,
  record: BuildRecord,
  recipe: BuildRecipe,
  request: BuildRequest,
  disk: string,
): Promise<NonNullable<BuildRecord['result']>> {
  const { events } = request;
  const wim = join(work, CAPTURED_WIM);
  await rm(wim, { force: true });
  events.line('capturing the Windows partition');
  const lineage = {
    'WINSMITH/RECIPE': recipe.text,
    'WINSMITH/RECIPESHA256': recipe.sha256,
    'WINSMITH/SOURCE':
      record.source.kind === 'iso'
        ? `iso:${record.source.sha256}:${record.edition.index}`
        : `image:${record.source.digest}:${record.edition.index}`,
    'WINSMITH/BUILD': JSON.stringify({
      id: record.id,
      winsmith: record.winsmithVersion,
      qemu: record.qemuArgs,
      serialLogSha256: await sha256OfFile(join(work, 'serial.log')).catch(() => null),
      steps: record.steps.map((s) => ({
        step: s.index + 1,
        kind: s.kind,
        where: s.where,
        state: s.state,
        startedAt: s.startedAt,
        endedAt: s.endedAt,
        rounds: s.rounds,
        outputSha256: s.outputSha256,
      })),
    }),
  };
  await captureDisk(disk, wim, {
    name: record.edition.name ?? record.edition.editionId,
    compression: 'LZX',
    imageProperties: lineage,
    onProgress: events.progress,
  });
  if (recipe.customize.length > 0) {
    events.line(`customizing (${recipe.customize.length} steps)`);
    await customizeImageInPlace(wim, {
      file: recipe.file,
      text: recipe.text,
      sha256: recipe.sha256,
      steps: recipe.customize,
    });
  }
  let digest: string | null = null;
  if (recipe.output.tag !== null) {
    const meta = await artifactMetaOf(wim, {
      sourceIsoSha256: record.source.kind === 'iso' ? record.source.sha256 : null,
      parentDigest: record.source.kind === 'image' ? record.source.digest : null,
    });
    const pushed = await pushFile(await request.repository(), wim, recipe.output.tag, meta, events.progress);
    digest = pushed.image.digest;
    events.line(`stored ${formatImageRef(recipe.output.tag)} ${digest}`);
  }
  if (recipe.output.disk !== null) {
    const format = recipe.output.disk.endsWith('.qcow2') ? 'qcow2' : 'raw';
    await writeOutputFile(recipe.output.disk, (tmp) => convertDisk(disk, tmp, format), {
      overwrite: request.force === true,
    });
    events.line(`wrote ${recipe.output.disk}`);
  }
  if (recipe.output.tag !== null) await rm(wim);
  return {
    ref: recipe.output.tag === null ? null : formatImageRef(recipe.output.tag),
    digest,
    disk: recipe.output.disk,
  };
}
