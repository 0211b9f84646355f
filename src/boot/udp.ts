// UDP sockets of the boot services (DHCP, TFTP): binding as a promise.

import type dgram from 'node:dgram';

/** Binds `socket`; rejects with the bind error (EADDRINUSE, EACCES, …) instead of emitting it. */
export function bindUdp(socket: dgram.Socket, options: dgram.BindOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    socket.once('error', onError);
    socket.bind(options, () => {
      socket.off('error', onError);
      resolve();
    });
  });
}
