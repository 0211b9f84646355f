// Who may read GET /metrics: a client whose address is in the config's metrics.allow (addresses
// and CIDR networks; by default this machine only), or one that sends the Bearer token
// metrics.tokenEnv names, from anywhere. The token is compared in constant time.

import { createHash, timingSafeEqual } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import { AppError } from '../core/errors.ts';
import { parseAllowedNetwork, type MetricsSettings } from '../config/server-config.ts';

/** The allowed addresses as a BlockList (Node's address and subnet matcher). */
function allowList(allow: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of allow) {
    const network = parseAllowedNetwork(entry);
    if (network === null) {
      throw new AppError('INVALID_ARGUMENT', `metrics.allow: '${entry}' is not an address or a network`, {
        hint: 'give addresses such as 10.0.0.5 or networks such as 10.0.0.0/24',
      });
    }
    if (network.prefix === null) list.addAddress(network.address, network.type);
    else list.addSubnet(network.address, network.prefix, network.type);
  }
  return list;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** The check of one scrape: nothing when it may read, an AppError saying why not otherwise. */
export function metricsGate(settings: MetricsSettings): (client: string, token: string | null) => void {
  const list = allowList(settings.allow);
  const wanted = settings.token === null ? null : digest(settings.token);
  return (client, token) => {
    // An IPv4 client on a dual-stack socket (::ffff:a.b.c.d) matches the IPv4 entries: BlockList
    // checks such an address against both.
    const version = isIP(client);
    if (version !== 0 && list.check(client, version === 4 ? 'ipv4' : 'ipv6')) return;
    if (token !== null) {
      if (wanted !== null && timingSafeEqual(digest(token), wanted)) return;
      throw new AppError('UNAUTHORIZED', 'the token is not the metrics token', {
        hint: "send the token metrics.tokenEnv names in the server's config",
      });
    }
    throw new AppError('FORBIDDEN', `/metrics is not open to ${client}`, {
      hint: "add the scraper's address to metrics.allow in the server's config, or send the metrics token",
    });
  };
}
