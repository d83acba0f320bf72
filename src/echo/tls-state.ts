import type { TLSSocket } from 'node:tls';

export interface TLSConnectionState {
  version: string;
  serverName: string;
  /** Empty when the client offered no ALPN protocol the server accepted. */
  negotiatedProtocol: string;
  cipherSuite: string;
}

/** What upstream's echo servers report of a TLS connection, in Go's spelling: "TLSv1.3" and the suite's IANA name. */
export function tlsConnectionState(socket: TLSSocket): TLSConnectionState {
  const version = socket.getProtocol() ?? '';
  return {
    version: version === 'TLSv1' ? 'TLSv1.0' : version,
    serverName: typeof socket.servername === 'string' ? socket.servername : '',
    negotiatedProtocol: socket.alpnProtocol || '',
    cipherSuite: socket.getCipher()?.standardName ?? '',
  };
}
