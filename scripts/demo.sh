#!/usr/bin/env bash
# The demo, end to end with embedded defaults: set-up, then winsmith's commands on a sample image —
# make an image, read it as Windows media, look inside it, read its registry and boot store offline,
# customize it, turn it into bootable UEFI and BIOS disks that are checked after, keep both images in
# a repository, serve network boot (HTTP and TFTP, on 127.0.0.1 only) to a machine's iPXE, and, as
# root, deploy a VM over a private network on this host (winsmith lab deploy). With --serve, it ends
# by leaving a server running on the demo's repository, and prints the web console's address and a
# login for it.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
serve=false
for arg in "$@"; do
  case "$arg" in
    --serve) serve=true ;;
    *)
      echo "demo: unknown option $arg (the one option is --serve)" >&2
      exit 2
      ;;
  esac
done
bash scripts/setup.sh
ws() {
  printf '\n\033[1m$ winsmith %s\033[0m\n' "$*" >&2
  "$root/bin/winsmith" "$@"
}

# `winsmith server ARGS...` in the background (its pid in $server, stopped when the demo exits), its
# log in LOG, waited for until it logs the message READY.
start_server() {
  local log=$1 ready=$2
  shift 2
  printf '\n\033[1m$ winsmith server %s &\033[0m\n' "$*" >&2
  "$root/bin/winsmith" server "$@" 2>"$log" &
  server=$!
  trap 'kill "$server" 2>/dev/null || true' EXIT
  for _ in $(seq 150); do
    grep -q "\"msg\":\"$ready\"" "$log" && break
    kill -0 "$server" 2>/dev/null || break
    sleep 0.2
  done
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

# The repository: both images in a data directory used directly, listed, and one pulled back byte
# for byte.
data="$out/data"
ws push "$out/sample.wim" demo/ws2022:base --repo "$data" --init
ws push "$out/custom.wim" demo/ws2022:custom --parent demo/ws2022:base --repo "$data"
ws images --repo "$data"
ws pull demo/ws2022:custom -o "$out/pulled.wim" --repo "$data"
cmp "$out/custom.wim" "$out/pulled.wim"

# Network boot, with DHCP off and on 127.0.0.1 only: the server with HTTP boot and TFTP on free
# ports. A machine's iPXE asks for its script (which registers the machine: no deployment is
# assigned, so the script boots the local disk), then fetches iPXE itself over TFTP.
head -c 24 /dev/urandom | base64 | ws user add admin --role admin --password-stdin --repo "$data"
start_server "$out/server.log" 'tftp listening' --data "$data" --listen 127.0.0.1:0 --tftp 127.0.0.1:0
http=$(sed -n 's/.*"msg":"listening","url":"\([^"]*\)".*/\1/p' "$out/server.log")
tftp=$(sed -n 's/.*"msg":"tftp listening","host":"\([^"]*\)","port":\([0-9]*\).*/\1:\2/p' "$out/server.log")
if [[ -z "$http" || -z "$tftp" ]]; then
  echo "demo: the server did not start; its log is $out/server.log" >&2
  exit 1
fi
printf '\n\033[1m$ curl %s/boot/ipxe?mac=52:54:00:12:34:56&...\033[0m\n' "$http" >&2
curl -sSf "$http/boot/ipxe?mac=52:54:00:12:34:56&uuid=4c4c4544-0042-3510-8052-b4c04f4b4d31&manufacturer=QEMU&product=Standard%20PC&serial=DEMO-01&buildarch=x86_64&platform=efi"
printf '\n\033[1m$ curl tftp://%s/ipxe.efi\033[0m\n' "$tftp" >&2
curl -sSf -o "$out/ipxe.efi" "tftp://$tftp/ipxe.efi"
ls -l "$out/ipxe.efi"
ws machines --repo "$data"
kill "$server"
wait "$server" || true
trap - EXIT

# A whole network deployment on this host, in a network namespace of its own (root): a server with
# DHCP on its bridge, the sample pushed, a QEMU VM that boots, registers, is approved and deployed,
# its disk read back after; everything it made removed at the end. The deploy environment's packages
# are kept in .cache/bootenv-debs, as the tests keep them.
if [[ $(id -u) -eq 0 ]]; then
  ws lab deploy --firmware uefi --cache "$root/.cache/bootenv-debs"
else
  echo "demo: 'winsmith lab deploy' needs root (network namespaces, tap devices): run the demo as root to see it" >&2
fi

echo >&2
echo "demo: done; everything it made is in $out" >&2

# --serve: the repository of the demo (both images, the machine that booted) served on 127.0.0.1,
# with its web console, until Ctrl-C.
if [[ "$serve" == true ]]; then
  login=$(ws user add console --role admin --repo "$data" 2>/dev/null | sed -n 's/^password: \([^ ]*\).*/\1/p')
  start_server "$out/console-server.log" listening --data "$data" --listen 127.0.0.1:0
  http=$(sed -n 's/.*"msg":"listening","url":"\([^"]*\)".*/\1/p' "$out/console-server.log")
  if [[ -z "$http" ]]; then
    echo "demo: the server did not start; its log is $out/console-server.log" >&2
    exit 1
  fi
  echo >&2
  echo "demo: the web console is at $http/ — user console, password $login" >&2
  echo "demo: the server runs until Ctrl-C; its log is $out/console-server.log" >&2
  wait "$server" || true
fi
