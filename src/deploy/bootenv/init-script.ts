// The deploy environment's first process and its DHCP event script, as busybox sh runs them. /init
// mounts the kernel's file systems, loads the drivers listed in /winsmith/modules, gets a DHCP lease
// on the first interface that has a link and an answer, then runs the agent; with winsmith.selftest=1
// it prints what the environment holds and powers off instead. It never leaves a machine hanging:
// when the agent ends (it reboots or powers off by itself when it succeeds) the machine reboots,
// after a shell on the console when winsmith.debug=1 is given.
//
// Kernel command line: winsmith.selftest=1, winsmith.debug=1, winsmith.dhcptimeout=SECONDS (60),
// and the agent's own (winsmith.server, winsmith.token, winsmith.deployment), which the agent reads
// from /proc/cmdline itself. The token is never printed.

/** The selftest's lines start with this; the last one is `${SELFTEST_PREFIX} end`. */
export const SELFTEST_PREFIX = 'winsmith-selftest:';

/** Seconds /init waits for a DHCP lease when winsmith.dhcptimeout does not say. */
export const DEFAULT_DHCP_TIMEOUT = 60;

export const INIT_SCRIPT = `#!/usr/bin/busybox sh
# winsmith's deploy environment: see src/deploy/bootenv/init-script.ts.
export PATH=/usr/sbin:/usr/bin HOME=/root LANG=C.UTF-8 TERM=linux
/usr/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs -o mode=0755 devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /tmp
mkdir -p /run/winsmith

log() { echo "winsmith: $*"; }
cmdline=$(cat /proc/cmdline)
# The value of a parameter of the kernel command line: '' when absent, 1 when given without '='.
param() {
  set -f
  value=
  for word in $cmdline; do
    case "$word" in
      "$1="*) value=\${word#*=} ;;
      "$1") value=1 ;;
    esac
  done
  set +f
  echo "$value"
}

# A driver without its device (hv_vmbus off Hyper-V, efivarfs under BIOS) refuses to load: fine.
while read -r module; do
  modprobe "$module" 2>/dev/null
done < /winsmith/modules
if [ -d /sys/firmware/efi/efivars ]; then
  mount -t efivarfs efivarfs /sys/firmware/efi/efivars
fi

# Network interfaces of devices (not lo, not virtual ones).
nics() {
  for dev in /sys/class/net/*; do
    [ -e "$dev/device" ] && echo "\${dev##*/}"
  done
}
ip link set lo up
for nic in $(nics); do ip link set "$nic" up; done
timeout=$(param winsmith.dhcptimeout)
case "$timeout" in ''|*[!0-9]*) timeout=${DEFAULT_DHCP_TIMEOUT} ;; esac
lease=
if [ -z "$(nics)" ]; then
  log "no network interface"
else
  end=$(( $(date +%s) + timeout ))
  while [ -z "$lease" ] && [ "$(date +%s)" -lt "$end" ]; do
    linked=
    for nic in $(nics); do
      [ "$(cat "/sys/class/net/$nic/carrier" 2>/dev/null)" = 1 ] || continue
      linked=1
      # Exits when no lease comes; after a lease, stays in the background to renew it.
      if udhcpc -i "$nic" -s /winsmith/udhcpc.script -p "/run/udhcpc.$nic.pid" -n -t 3 -T 2 -A 1; then
        lease=$nic
        break
      fi
    done
    [ -n "$linked" ] || sleep 1
  done
  if [ -n "$lease" ]; then
    log "$lease has the address $(ip -4 -o addr show dev "$lease" | awk '{print $4}')"
  else
    log "no DHCP lease on any interface within \${timeout}s"
  fi
fi

if [ "$(param winsmith.selftest)" = 1 ]; then
  say() { echo "${SELFTEST_PREFIX} $*"; }
  check() {
    name=$1
    shift
    out=$("$@" 2>&1)
    rc=$?
    say "$name: rc=$rc $(echo "$out" | grep -m 1 .)"
  }
  say begin
  say "cmdline: $(echo "$cmdline" | sed 's/winsmith[.]token=[^ ]*/winsmith.token=(set)/g')"
  say "kernel: $(uname -r)"
  check node node --version
  check agent-syntax node --check /winsmith/agent.mjs
  check wimlib-imagex wimlib-imagex --version
  check mkntfs mkntfs --version
  check ntfs-3g ntfs-3g --version
  check lowntfs-3g lowntfs-3g --version
  check sgdisk sgdisk --version
  check sfdisk sfdisk --version
  mkdir -p /run/selftest
  check mkfs.fat sh -c 'truncate -s 2M /run/selftest/fat.img && mkfs.fat /run/selftest/fat.img'
  check mtools mtools --version
  check grub-mkimage grub-mkimage --version
  check nbdkit nbdkit --version
  check nbdkit-curl sh -c 'nbdkit curl --version | grep "^curl"'
  check nbdfuse nbdfuse --version
  # By its path: busybox sh runs its own applet of the same name before anything on PATH.
  check setpriv /usr/bin/setpriv --version
  check fuse ls -l /dev/fuse
  : > /run/selftest/disk
  nbdfuse -P /run/selftest/pid /run/selftest/disk --command nbdkit -s memory 1M &
  n=0
  while [ ! -s /run/selftest/pid ] && [ $n -lt 100 ]; do usleep 100000; n=$((n + 1)); done
  printf winsmith | dd of=/run/selftest/disk conv=notrunc 2>/dev/null
  check fuse-nbd sh -c 'grep -q " /run/selftest/disk fuse" /proc/mounts && echo "$(stat -c %s /run/selftest/disk) bytes, read back $(head -c 8 /run/selftest/disk)"'
  fusermount3 -u /run/selftest/disk
  for nic in $(nics); do
    say "nic $nic $(cat "/sys/class/net/$nic/address") $(ip -4 -o addr show dev "$nic" | awk '{print $4}')"
  done
  say "lease: \${lease:-none}"
  say "modules: $(lsmod | tail -n +2 | wc -l) loaded"
  say end
  poweroff -f
fi

log "starting the agent"
node /winsmith/agent.mjs
log "the agent ended (exit $?)"
if [ "$(param winsmith.debug)" = 1 ]; then
  log "winsmith.debug=1: a shell on the console; leave it to reboot"
  setsid cttyhack sh
fi
log rebooting
sync
reboot -f
echo b > /proc/sysrq-trigger
`;

export const UDHCPC_SCRIPT = `#!/usr/bin/busybox sh
# udhcpc's event script (busybox): sets the interface's address, default route and DNS servers from
# the lease (udhcpc gives them as $ip, $mask, $router, $dns, $domain: RFC 2132 options 1, 3, 6, 15)
# and keeps the lease in /run/winsmith/lease-$interface (NAME=value lines) for the agent.
case "$1" in
  deconfig)
    ip -4 addr flush dev "$interface"
    ip link set "$interface" up
    ;;
  bound|renew)
    if ! ip -4 addr show dev "$interface" | grep -q " $ip/"; then
      ip -4 addr flush dev "$interface"
      ip addr add "$ip/\${mask:-24}" dev "$interface"
    fi
    if [ -n "$router" ]; then
      ip route del default dev "$interface" 2>/dev/null
      set -- $router
      ip route add default via "$1" dev "$interface"
    fi
    {
      [ -n "$domain" ] && echo "search $domain"
      for server in $dns; do echo "nameserver $server"; done
    } > /etc/resolv.conf
    {
      echo "interface=$interface"
      echo "ip=$ip"
      echo "mask=$mask"
      echo "router=$router"
      echo "dns=$dns"
      echo "domain=$domain"
      echo "serverid=$serverid"
      echo "siaddr=$siaddr"
      echo "lease=$lease"
    } > "/run/winsmith/lease-$interface"
    ;;
esac
exit 0
`;
