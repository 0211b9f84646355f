#!/bin/sh
# udhcpc's event script for test/boot/dhcp-server.test.ts: prints what the DHCP server gave, and
# changes nothing (the namespace's interface keeps its address).
echo "EVENT $1 ip=$ip boot_file=$boot_file siaddr=$siaddr serverid=$serverid"
