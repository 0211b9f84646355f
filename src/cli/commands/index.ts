// Every command winsmith has, in the order `winsmith --help` lists them.

import type { CliCommand } from '../command.ts';
import { mediaExtract } from './media-extract.ts';
import { mediaInfo } from './media-info.ts';
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

export const COMMANDS: readonly CliCommand[] = [
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
  mediaInfo,
  mediaExtract,
];
