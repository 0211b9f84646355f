#!/usr/bin/env bash
# The demo, end to end with embedded defaults: set-up, then winsmith's commands on a sample image —
# make an image, read it as Windows media, look inside it, read its registry and boot store offline,
# and turn it into bootable UEFI and BIOS disks that are checked after.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/setup.sh
ws() {
  printf '\n\033[1m$ winsmith %s\033[0m\n' "$*" >&2
  "$root/bin/winsmith" "$@"
}

out="$root/demo-out"
rm -rf "$out"
mkdir -p "$out"
ws --version

# A Windows Server 2022-like sample image, made from nothing; every later stage runs on it.
ws sample -o "$out/sample.wim"
ws image info "$out/sample.wim"
ws image files "$out/sample.wim" 'Windows/System32/config'

# The same image on installation media (a UDF ISO like Microsoft's), read without extracting it.
mkdir -p "$out/media/sources"
cp "$out/sample.wim" "$out/media/sources/install.wim"
genisoimage -quiet -udf -iso-level 3 -V WS2022_DEMO -o "$out/demo.iso" "$out/media"
ws media info "$out/demo.iso"
ws media extract "$out/demo.iso" -o "$out/extracted"

# The registry and the boot configuration template, read offline by winsmith's own code.
ws image extract "$out/sample.wim" 'Windows/System32/config/SYSTEM' 'Windows/System32/config/BCD-Template' -o "$out/hives"
ws reg get "$out/hives/SYSTEM" 'Select' Current
ws reg export "$out/hives/SYSTEM" --key 'ControlSet001\Control\ComputerName'
ws bcd show "$out/hives/BCD-Template"

# Offline customization (DISM's job): files, registry, unattend, first-boot script and metadata, then
# the difference between the two images.
echo 'Managed by winsmith' > "$out/motd.txt"
cat > "$out/recipe.yaml" <<'YAML'
customize:
  - files:
      add:
        - { src: ./motd.txt, dest: 'Windows\Setup\motd.txt' }
        - { content: "hello", dest: 'ProgramData\winsmith\hello.txt' }
      remove: [ 'Windows\Temp\*' ]
  - registry:
      set:
        - { key: 'HKLM\SYSTEM\CurrentControlSet\Control\Terminal Server', name: fDenyTSConnections, type: REG_DWORD, data: 0 }
        - { key: 'HKLM\SOFTWARE\Contoso\Build', name: Channel, type: REG_SZ, data: stable }
  - unattend: { computerName: WS-01, timeZone: 'W. Europe Standard Time', locale: fr-FR, adminPassword: 'S3cret!pass' }
  - firstboot: [ { powershell: 'Write-Output ready' } ]
  - metadata: { name: 'WS2022 Standard (custom)', description: 'built by winsmith' }
YAML
ws image customize "$out/sample.wim" --recipe "$out/recipe.yaml" -o "$out/custom.wim"
ws image diff "$out/sample.wim" "$out/custom.wim"

# Bootable disks: UEFI/GPT as qcow2, BIOS/MBR as raw; each checked as a firmware would need it.
ws disk "$out/custom.wim" -o "$out/ws2022-uefi.qcow2" --firmware uefi --size 40G
ws disk verify "$out/ws2022-uefi.qcow2"
ws disk "$out/custom.wim" -o "$out/ws2022-bios.raw" --firmware bios --size 2G
ws disk verify "$out/ws2022-bios.raw"
echo >&2
echo "demo: done; everything it made is in $out" >&2
