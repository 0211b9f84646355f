// Every command winsmith has, in the order `winsmith --help` lists them. Each entry knows what the
// listings need (path, summary, arguments) without importing its module: only the module of the
// command being run is loaded (src/cli/run-cli.ts), which keeps start-up fast and small. A test
// checks every entry against its module.

import type { CliCommand } from '../command.ts';

export interface CommandEntry {
  /** Words after `winsmith`, as in the module. */
  readonly path: readonly string[];
  /** The module's summary, as the listings show it. */
  readonly summary: string;
  /** The module's arguments as `--help` lists them after the name, e.g. '<image> [path]'. */
  readonly args: string;
  /** Imports the command's module. */
  readonly load: () => Promise<CliCommand>;
}

export const COMMANDS: readonly CommandEntry[] = [
  {
    path: ['image', 'info'],
    summary: 'show the compression, parts and editions (name, edition ID, build, arch, languages) of a WIM',
    args: '<file>',
    load: async () => (await import('./image-info.ts')).imageInfo,
  },
  {
    path: ['image', 'files'],
    summary: 'list the files of one image of a WIM (path, size, SHA-1), optionally under a path',
    args: '<image> [path]',
    load: async () => (await import('./image-files.ts')).imageFiles,
  },
  {
    path: ['image', 'extract'],
    summary: 'extract files or directories of one image of a WIM into a new directory',
    args: '<image> <paths...>',
    load: async () => (await import('./image-extract.ts')).imageExtract,
  },
  {
    path: ['image', 'capture'],
    summary:
      'capture a directory, an NTFS volume in a file or block device, or the Windows partition of a disk image (no mount), into a new WIM or a repository (--push)',
    args: '<source> [out]',
    load: async () => (await import('./image-capture.ts')).imageCapture,
  },
  {
    path: ['image', 'apply'],
    summary: 'apply one image of a WIM to a new directory, or to an empty NTFS volume (file or block device)',
    args: '<image> <target>',
    load: async () => (await import('./image-apply.ts')).imageApply,
  },
  {
    path: ['image', 'export'],
    summary:
      'copy one image of a WIM into a new WIM, or append it to an existing one, optionally recompressed',
    args: '<image> <out>',
    load: async () => (await import('./image-export.ts')).imageExport,
  },
  {
    path: ['image', 'optimize'],
    summary: 'rebuild a WIM in place without unused space, optionally compressing everything again',
    args: '<file>',
    load: async () => (await import('./image-optimize.ts')).imageOptimize,
  },
  {
    path: ['image', 'split'],
    summary: 'split a WIM into .swm parts of at most a given size (e.g. 4000 for a FAT32 stick)',
    args: '<file> <out>',
    load: async () => (await import('./image-split.ts')).imageSplit,
  },
  {
    path: ['image', 'join'],
    summary: 'join all the .swm parts of a split WIM into one new WIM',
    args: '<out> <parts...>',
    load: async () => (await import('./image-join.ts')).imageJoin,
  },
  {
    path: ['image', 'verify'],
    summary: "check a WIM: its integrity table, each image's metadata and each file's SHA-1",
    args: '<file>',
    load: async () => (await import('./image-verify.ts')).imageVerify,
  },
  {
    path: ['image', 'customize'],
    summary:
      'apply a recipe (files, registry, drivers, unattend, first-boot scripts, features, metadata) to one image, offline',
    args: '<image>',
    load: async () => (await import('./image-customize.ts')).imageCustomize,
  },
  {
    path: ['image', 'diff'],
    summary: 'compare two images: files (size, SHA-1), registry keys and values, drivers, unattend settings',
    args: '<a> <b>',
    load: async () => (await import('./image-diff.ts')).imageDiff,
  },
  {
    path: ['image', 'rm'],
    summary: 'remove NAME:TAG from a repository (the tag history keeps the removal)',
    args: '<ref>',
    load: async () => (await import('./image-rm.ts')).imageRm,
  },
  {
    path: ['reg', 'export'],
    summary: 'export a registry hive (or one key) as Regedit 5.00 .reg text, or JSON with --json',
    args: '<hive>',
    load: async () => (await import('./reg-export.ts')).regExport,
  },
  {
    path: ['reg', 'import'],
    summary: 'apply a Regedit 5.00 .reg file (UTF-16LE or UTF-8) to a registry hive',
    args: '<hive> <file>',
    load: async () => (await import('./reg-import.ts')).regImport,
  },
  {
    path: ['reg', 'new'],
    summary: 'create a new empty registry hive file',
    args: '<out>',
    load: async () => (await import('./reg-new.ts')).regNew,
  },
  {
    path: ['reg', 'get'],
    summary: "show a registry key's subkeys and values, or one value's data",
    args: '<hive> <key> [value]',
    load: async () => (await import('./reg-get.ts')).regGet,
  },
  {
    path: ['reg', 'set'],
    summary: 'set a registry value, creating its key when missing',
    args: '<hive> <key> <value>',
    load: async () => (await import('./reg-set.ts')).regSet,
  },
  {
    path: ['reg', 'delete'],
    summary: 'delete a registry key (with its subkeys) or one value',
    args: '<hive> <key> [value]',
    load: async () => (await import('./reg-delete.ts')).regDelete,
  },
  {
    path: ['bcd', 'show'],
    summary: 'list the objects and elements of a BCD store',
    args: '<store>',
    load: async () => (await import('./bcd-show.ts')).bcdShow,
  },
  {
    path: ['bcd', 'create'],
    summary: 'create a boot BCD store as bcdboot does (bootmgr, a Windows loader, resume, memdiag)',
    args: '<out>',
    load: async () => (await import('./bcd-create.ts')).bcdCreate,
  },
  {
    path: ['bcd', 'set'],
    summary: 'set an element of a BCD object (like bcdedit /set)',
    args: '<store> <object> <element> <value>',
    load: async () => (await import('./bcd-set.ts')).bcdSet,
  },
  {
    path: ['bcd', 'delete-element'],
    summary: 'delete an element of a BCD object (like bcdedit /deletevalue)',
    args: '<store> <object> <element>',
    load: async () => (await import('./bcd-delete-element.ts')).bcdDeleteElement,
  },
  {
    path: ['disk'],
    summary: 'make a bootable disk (raw, qcow2, vhdx, vmdk) from a Windows image; `disk verify` checks one',
    args: '<source>',
    load: async () => (await import('./disk.ts')).disk,
  },
  {
    path: ['disk', 'verify'],
    summary: 'check that a disk (raw, qcow2, vhdx, vmdk) would boot: table, boot files, BCD, Windows files',
    args: '<disk>',
    load: async () => (await import('./disk-verify.ts')).diskVerify,
  },
  {
    path: ['unattend', 'render'],
    summary:
      'write unattend.xml from a profile YAML (computer name, accounts, network, domain join, RDP, KMS key...)',
    args: '<profile>',
    load: async () => (await import('./unattend-render.ts')).unattendRender,
  },
  {
    path: ['unattend', 'lint'],
    summary:
      'check an unattend.xml: well-formed, known passes, components in passes Windows accepts, known settings, no plain-text passwords',
    args: '<file>',
    load: async () => (await import('./unattend-lint.ts')).unattendLint,
  },
  {
    path: ['media', 'info'],
    summary: 'show the label and the editions of the install and boot images of a Windows ISO',
    args: '<iso>',
    load: async () => (await import('./media-info.ts')).mediaInfo,
  },
  {
    path: ['media', 'extract'],
    summary: 'extract install.wim (or install.esd) and boot.wim from a Windows ISO',
    args: '<iso>',
    load: async () => (await import('./media-extract.ts')).mediaExtract,
  },
  {
    path: ['sample'],
    summary:
      'make a Windows Server 2022-like sample WIM (real hives, boot files as stand-ins) for trying every stage',
    args: '',
    load: async () => (await import('./sample.ts')).sample,
  },
  {
    path: ['build'],
    summary:
      'build a reference image in a VM from a recipe: install from the ISO, provision, Sysprep, capture, customize, store',
    args: '<recipe>',
    load: async () => (await import('./build.ts')).build,
  },
  {
    path: ['build', 'resume'],
    summary: 'resume a failed or stopped build from its last finished phase',
    args: '<dir|id>',
    load: async () => (await import('./build.ts')).buildResume,
  },
  {
    path: ['builds'],
    summary: 'list the builds the server runs and ran, newest first, with their state and phase',
    args: '',
    load: async () => (await import('./builds.ts')).builds,
  },
  {
    path: ['build', 'show'],
    summary: 'show one build: who started it, its output, state, phases and provisioning steps',
    args: '<id>',
    load: async () => (await import('./builds.ts')).buildShow,
  },
  {
    path: ['build', 'logs'],
    summary:
      "print a build's log (phases, steps, the guest's reports), or its VM's serial log; --follow to its end",
    args: '<id>',
    load: async () => (await import('./builds.ts')).buildLogs,
  },
  {
    path: ['build', 'screenshot'],
    summary: "save a build VM's latest screenshot as a PNG file",
    args: '<id>',
    load: async () => (await import('./builds.ts')).buildScreenshot,
  },
  {
    path: ['build', 'cancel'],
    summary: 'cancel a queued build, or stop a running one (its folder is kept: `winsmith build resume ID`)',
    args: '<id>',
    load: async () => (await import('./builds.ts')).buildCancel,
  },
  {
    path: ['build', 'rm'],
    summary: "remove a build that is over, with its folder on the server (the VM's disks, log, screenshots)",
    args: '<id>',
    load: async () => (await import('./builds.ts')).buildRemove,
  },
  {
    path: ['bootenv', 'build'],
    summary:
      'build the deploy environment (signed Debian kernel + initramfs with wimlib, ntfs-3g, nbdkit, Node and the agent) from the lock',
    args: '',
    load: async () => (await import('./bootenv-build.ts')).bootenvBuild,
  },
  {
    path: ['bootenv', 'lock'],
    summary:
      "pin the deploy environment's Debian packages to the versions apt offers now (bootenv.lock.json)",
    args: '',
    load: async () => (await import('./bootenv-lock.ts')).bootenvLock,
  },
  {
    path: ['lab', 'deploy'],
    summary:
      'deploy the sample image to a QEMU VM over a private network on this host, from nothing, then check its disk (root)',
    args: '',
    load: async () => (await import('./lab-deploy.ts')).labDeploy,
  },
  {
    path: ['server'],
    summary:
      'serve a repository over HTTP (SQLite + files under --data by default; PostgreSQL + S3 from --config)',
    args: '',
    load: async () => (await import('./server.ts')).server,
  },
  {
    path: ['service', 'install'],
    summary: 'install winsmith server as a systemd service: unit, winsmith user, config and data folders',
    args: '',
    load: async () => (await import('./service-install.ts')).serviceInstall,
  },
  {
    path: ['login'],
    summary:
      'log in to a winsmith server and keep the token in ~/.config/winsmith/credentials.json (mode 0600)',
    args: '<url>',
    load: async () => (await import('./login.ts')).login,
  },
  {
    path: ['init'],
    summary: 'make a new repository in a data directory (new or empty) for --repo to name',
    args: '<path>',
    load: async () => (await import('./init.ts')).init,
  },
  {
    path: ['push'],
    summary: 'store a file (WIM, ISO, anything) as NAME:TAG; only chunks the repository lacks are sent',
    args: '<file> <ref>',
    load: async () => (await import('./push.ts')).push,
  },
  {
    path: ['pull'],
    summary: 'write the exact bytes of NAME:TAG to a file (resumes a broken download, checks SHA-256)',
    args: '<ref>',
    load: async () => (await import('./pull.ts')).pull,
  },
  {
    path: ['images'],
    summary: 'list the images (NAME:TAG, digest, size, editions, pushed by/at) of a repository',
    args: '',
    load: async () => (await import('./images.ts')).images,
  },
  {
    path: ['tag'],
    summary: 'point NAME:TAG DST at the image SRC points at (tags move; history is kept)',
    args: '<src> <dst>',
    load: async () => (await import('./tag.ts')).tag,
  },
  {
    path: ['tag', 'history'],
    summary: 'show each move of NAME:TAG, newest first: when, by whom, the digest before and after',
    args: '<ref>',
    load: async () => (await import('./tag-history.ts')).tagHistory,
  },
  {
    path: ['import'],
    summary:
      'store the editions of a Windows ISO (one image each) and its boot.wim; lineage records the ISO SHA-256',
    args: '<iso>',
    load: async () => (await import('./import.ts')).importCommand,
  },
  {
    path: ['store', 'stats'],
    summary: 'logical bytes (all artifacts), stored bytes (unique chunks), chunks and artifacts',
    args: '',
    load: async () => (await import('./store-stats.ts')).storeStats,
  },
  {
    path: ['store', 'check'],
    summary:
      'verify every chunk, manifest and image content of a repository (exit 1 when a problem is found)',
    args: '',
    load: async () => (await import('./store-check.ts')).storeCheck,
  },
  {
    path: ['store', 'gc'],
    summary: 'delete chunks and manifests nothing references, older than the grace period',
    args: '',
    load: async () => (await import('./store-gc.ts')).storeGc,
  },
  {
    path: ['user', 'add'],
    summary: 'add a user (admin, builder, operator or viewer), optionally limited to image-name prefixes',
    args: '<name>',
    load: async () => (await import('./user-add.ts')).userAdd,
  },
  {
    path: ['user', 'list'],
    summary: 'list the users: name, role, scopes, enabled or disabled',
    args: '',
    load: async () => (await import('./user.ts')).userList,
  },
  {
    path: ['user', 'show'],
    summary: 'show one user: role, scopes, state, when made and changed, and their tokens',
    args: '<name>',
    load: async () => (await import('./user.ts')).userShow,
  },
  {
    path: ['user', 'disable'],
    summary:
      'disable a user: their tokens stop working at once and they cannot log in (not the last enabled admin)',
    args: '<name>',
    load: async () => (await import('./user.ts')).userDisable,
  },
  {
    path: ['user', 'enable'],
    summary: 'enable a disabled user again: their tokens that have not expired work again',
    args: '<name>',
    load: async () => (await import('./user.ts')).userEnable,
  },
  {
    path: ['user', 'rm'],
    summary: 'remove a user and their tokens (not the last enabled admin)',
    args: '<name>',
    load: async () => (await import('./user.ts')).userRm,
  },
  {
    path: ['user', 'passwd'],
    summary:
      "set a password: one's own with --current (the current one asked or read), or (admins) anyone's, generated and shown once unless given",
    args: '<name>',
    load: async () => (await import('./user.ts')).userPasswd,
  },
  {
    path: ['user', 'set-role'],
    summary: "change a user's role: admin, builder, operator or viewer (the last enabled admin stays admin)",
    args: '<name> <role>',
    load: async () => (await import('./user.ts')).userSetRole,
  },
  {
    path: ['user', 'set-scope'],
    summary: "replace a user's image-name prefixes; none given: every image name (admins are never scoped)",
    args: '<name> [prefixes...]',
    load: async () => (await import('./user.ts')).userSetScope,
  },
  {
    path: ['token', 'create'],
    summary:
      'create an API token (shown once); on a data directory for any user, on a server for yourself (admins: anyone)',
    args: '',
    load: async () => (await import('./token-create.ts')).tokenCreate,
  },
  {
    path: ['token', 'list'],
    summary:
      "list API tokens, newest first: one's own, or (admins; on a data directory) --all or --user NAME",
    args: '',
    load: async () => (await import('./token.ts')).tokenList,
  },
  {
    path: ['token', 'revoke'],
    summary: "revoke an API token by its id (one's own; admins: anyone's): refused from the next request on",
    args: '<id>',
    load: async () => (await import('./token.ts')).tokenRevoke,
  },
  {
    path: ['machines'],
    summary: 'list the machines of a repository, registered by booting or by an operator',
    args: '',
    load: async () => (await import('./machines.ts')).machines,
  },
  {
    path: ['machine', 'add'],
    summary: 'register a machine before it boots, by MAC and/or SMBIOS UUID, with a name',
    args: '<name>',
    load: async () => (await import('./machine.ts')).machineAdd,
  },
  {
    path: ['machine', 'show'],
    summary: 'show one machine: identity, inventory, state, labels, last check-in, deployment',
    args: '<machine>',
    load: async () => (await import('./machine.ts')).machineShow,
  },
  {
    path: ['machine', 'set'],
    summary: "change a machine's name or labels (--label replaces them all; --no-labels clears them)",
    args: '<machine>',
    load: async () => (await import('./machine.ts')).machineSet,
  },
  {
    path: ['machine', 'rm'],
    summary: 'forget a machine and its deployments (it registers again, pending, when it next boots)',
    args: '<machine>',
    load: async () => (await import('./machine.ts')).machineRm,
  },
  {
    path: ['machine', 'approve'],
    summary: 'approve a machine that registered itself by booting (pending → ready): it may then be deployed',
    args: '<machine>',
    load: async () => (await import('./machine.ts')).machineApprove,
  },
  {
    path: ['machine', 'password'],
    summary: 'print the administrator password the machine’s last deployment set (the read is audited)',
    args: '<machine>',
    load: async () => (await import('./machine.ts')).machinePassword,
  },
  {
    path: ['profiles'],
    summary: 'list the deployment profiles of a repository',
    args: '',
    load: async () => (await import('./profile.ts')).profiles,
  },
  {
    path: ['profile', 'apply'],
    summary: 'check a deployment profile (YAML) and store it under its name, replacing one of that name',
    args: '<file>',
    load: async () => (await import('./profile.ts')).profileApply,
  },
  {
    path: ['profile', 'show'],
    summary: 'show a deployment profile as stored, passwords masked',
    args: '<name>',
    load: async () => (await import('./profile.ts')).profileShow,
  },
  {
    path: ['profile', 'rm'],
    summary: 'remove a deployment profile (deployments made from it keep what they were made with)',
    args: '<name>',
    load: async () => (await import('./profile.ts')).profileRm,
  },
  {
    path: ['deploy'],
    summary:
      'deploy a profile to approved machines (several: one multicast session, --multicast): queued until they network-boot',
    args: '<machines...>',
    load: async () => (await import('./deploy.ts')).deploy,
  },
  {
    path: ['capture'],
    summary:
      "capture an approved machine's Windows into NAME:TAG over the network: queued until it network-boots",
    args: '<machine>',
    load: async () => (await import('./capture.ts')).capture,
  },
  {
    path: ['deployments'],
    summary: 'list deployments with their state and progress; --watch follows those under way to their end',
    args: '',
    load: async () => (await import('./deployments.ts')).deployments,
  },
  {
    path: ['deployment', 'show'],
    summary: 'show one deployment: machine, image, state and when each came, progress, disk, error',
    args: '<id>',
    load: async () => (await import('./deployments.ts')).deploymentShow,
  },
  {
    path: ['deployment', 'logs'],
    summary: "print a deployment's agent log; --follow prints new lines until the deployment ends",
    args: '<id>',
    load: async () => (await import('./deployments.ts')).deploymentLogs,
  },
  {
    path: ['deployment', 'cancel'],
    summary: 'cancel a deployment under way: its agent stops at its next call, the machine boots local',
    args: '<id>',
    load: async () => (await import('./deployments.ts')).deploymentCancel,
  },
  {
    path: ['deployment', 'retry'],
    summary: 'a new deployment like one that failed or was cancelled: same machine, profile and image',
    args: '<id>',
    load: async () => (await import('./deployments.ts')).deploymentRetry,
  },
];
