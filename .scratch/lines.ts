import { startInNetns } from '../src/engines/netns.ts';
const lines: string[] = [];
const s = startInNetns('mcs', 'udp-sender', ['--file', '/tmp/mc/p.wim', '--interface', 'br0', '--mcast-data-address', '239.77.0.5', '--portbase', '9100', '--min-receivers', '1', '--max-wait', '10', '--nokbd'], { onLine: (l) => lines.push(l) });
await s.exited;
console.log(JSON.stringify(lines.filter((l) => !l.startsWith('bytes')).slice(0, 40)));
