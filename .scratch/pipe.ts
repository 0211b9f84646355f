import { udpReceiveApply } from '../src/engines/udpcast.ts';
const t = Date.now();
await udpReceiveApply({ portBase: 9100, interface: null, startTimeoutSeconds: 20, receiveTimeoutSeconds: 10, index: 1, target: '/tmp/mc/vol.img', netns: 'mcr1', onProgress: (e) => { if (e.done === e.total) console.log(e); } }).catch((e) => console.log('ERR', e));
console.log('done', Date.now() - t);
