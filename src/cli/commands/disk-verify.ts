// `winsmith disk verify DISK`: would this disk boot Windows? Exit 1 with the reasons when not.

import { verifyDisk } from '../../image/disk/verify.ts';
import type { CliCommand } from '../command.ts';
import { formatBytes, formatFields, formatTable } from '../format.ts';

export const diskVerify: CliCommand = {
  path: ['disk', 'verify'],
  summary: 'check that a disk (raw, qcow2, vhdx, vmdk) would boot: table, boot files, BCD, Windows files',
  define(command) {
    command.argument('<disk>', 'the disk image to read (never written)');
  },
  async run(_ctx, args) {
    const report = await verifyDisk(String(args[0]));
    const partitions = formatTable(
      ['#', 'start', 'size', 'type', 'name / GUID'],
      report.partitions.map((p) => [
        String(p.number),
        String(p.firstLba),
        formatBytes(p.sectorCount * 512),
        p.type + (p.active ? ' active' : ''),
        p.uniqueGuid === null ? '' : `${p.name ?? ''} ${p.uniqueGuid}`,
      ]),
    );
    const loader = report.bcd?.objects.find((o) => o.id === report.bcd?.loader);
    const text = [
      formatFields([
        ['disk', `${report.path} (${report.format}, ${formatBytes(report.size)})`],
        [
          'table',
          report.firmware === null
            ? 'none'
            : report.firmware === 'uefi'
              ? `GPT, disk GUID ${report.diskId ?? ''}`
              : `MBR, signature ${report.diskId ?? ''}`,
        ],
        ['system partition', report.systemPartition === null ? 'none' : String(report.systemPartition)],
        ['boot files', String(report.bootFiles.length)],
        ['BCD loader', loader === undefined ? 'none' : `${loader.id} ${loader.description ?? ''}`],
        [
          'Windows partition',
          report.windowsPartition === null ? 'not found' : String(report.windowsPartition),
        ],
        ...Object.entries(report.windowsPaths).map(([p, ok]): [string, string] => [
          p,
          ok ? 'present' : 'MISSING',
        ]),
      ]),
      partitions,
      report.bootable ? 'bootable: yes' : `bootable: NO\n${report.problems.map((p) => `- ${p}`).join('\n')}`,
    ].join('\n');
    return { data: report, text, ...(report.bootable ? {} : { exitCode: 1 }) };
  },
};
