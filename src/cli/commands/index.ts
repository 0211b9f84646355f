// Every command winsmith has, in the order `winsmith --help` lists them.

import type { CliCommand } from '../command.ts';
import { imageInfo } from './image-info.ts';
import { imageFiles } from './image-files.ts';
import { imageExtract } from './image-extract.ts';
import { imageCapture } from './image-capture.ts';
import { imageApply } from './image-apply.ts';
import { imageExport } from './image-export.ts';
import { imageOptimize } from './image-optimize.ts';
import { imageSplit } from './image-split.ts';
import { imageJoin } from './image-join.ts';
import { imageVerify } from './image-verify.ts';
import { imageCustomize } from './image-customize.ts';
import { imageDiff } from './image-diff.ts';
import { mediaExtract } from './media-extract.ts';
import { mediaInfo } from './media-info.ts';
import { sample } from './sample.ts';
import { regDelete } from './reg-delete.ts';
import { regExport } from './reg-export.ts';
import { regGet } from './reg-get.ts';
import { regImport } from './reg-import.ts';
import { regNew } from './reg-new.ts';
import { regSet } from './reg-set.ts';
import { bcdShow } from './bcd-show.ts';
import { bcdCreate } from './bcd-create.ts';
import { bcdSet } from './bcd-set.ts';
import { bcdDeleteElement } from './bcd-delete-element.ts';
import { disk } from './disk.ts';
import { diskVerify } from './disk-verify.ts';
import { unattendRender } from './unattend-render.ts';
import { unattendLint } from './unattend-lint.ts';
import { push } from './push.ts';
import { pull } from './pull.ts';
import { images } from './images.ts';
import { imageRm } from './image-rm.ts';
import { tag } from './tag.ts';
import { storeStats } from './store-stats.ts';
import { storeCheck } from './store-check.ts';
import { storeGc } from './store-gc.ts';
import { importCommand } from './import.ts';
import { server } from './server.ts';
import { login } from './login.ts';
import { userAdd } from './user-add.ts';
import { tokenCreate } from './token-create.ts';
import { machines } from './machines.ts';

export const COMMANDS: readonly CliCommand[] = [
  imageInfo,
  imageFiles,
  imageExtract,
  imageCapture,
  imageApply,
  imageExport,
  imageOptimize,
  imageSplit,
  imageJoin,
  imageVerify,
  imageCustomize,
  imageDiff,
  imageRm,
  regExport,
  regImport,
  regNew,
  regGet,
  regSet,
  regDelete,
  bcdShow,
  bcdCreate,
  bcdSet,
  bcdDeleteElement,
  disk,
  diskVerify,
  unattendRender,
  unattendLint,
  mediaInfo,
  mediaExtract,
  sample,
  server,
  login,
  push,
  pull,
  images,
  tag,
  importCommand,
  storeStats,
  storeCheck,
  storeGc,
  userAdd,
  tokenCreate,
  machines,
];
