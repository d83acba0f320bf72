export { startEchoServer, type EchoOptions, type EchoServer } from './server.js';
export { startTCPEchoServer, TCP_WELCOME_MESSAGE, type TCPEchoOptions, type TCPEchoServer } from './tcp.js';
export { startUDPEchoServer, type UDPEchoOptions, type UDPEchoServer } from './udp.js';
export { startGRPCEchoServer, type GRPCEchoOptions, type GRPCEchoServer } from './grpc.js';
