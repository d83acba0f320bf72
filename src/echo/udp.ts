import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import { podContext, type PodIdentity } from './context.js';
import { goJsonEscape, goRemoteAddr } from './go-compat.js';

/**
 * A port of echo-basic's UDP mode (UDP_ECHO_SERVER): every datagram is
 * answered with JSON holding what was received and the pod context, which
 * the UDPRoute conformance tests use to tell backends apart.
 */
export interface UDPEchoOptions extends PodIdentity {
  /** Upstream's UDP_PORT. */
  port: number;
  host?: string;
  log?: (line: string) => void;
}

export interface UDPEchoServer {
  port: number;
  close(): Promise<void>;
}

// Upstream reads into a 1 KiB buffer, so longer datagrams are echoed truncated.
const READ_BUFFER_BYTES = 1024;

export async function startUDPEchoServer(opts: UDPEchoOptions): Promise<UDPEchoServer> {
  const host = opts.host ?? '0.0.0.0';
  const log = opts.log ?? (() => {});
  const context = podContext(opts);
  const socket = dgram.createSocket(isIPv6(host) ? 'udp6' : 'udp4');
  socket.on('message', (msg, rinfo) => {
    const request = msg.subarray(0, READ_BUFFER_BYTES).toString('utf8');
    log(`Received UDP ${request} from ${goRemoteAddr(rinfo.address, rinfo.port)}`);
    const reply = goJsonEscape(JSON.stringify({ request, ...context }));
    socket.send(reply, rinfo.port, rinfo.address, (err) => {
      if (err) log(`Error writing UDP: ${err.message}`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(opts.port, host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  // A failed read is logged and the loop goes on, as upstream's does.
  socket.on('error', (err) => log(`Error reading UDP: ${err.message}`));
  return {
    port: socket.address().port,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
