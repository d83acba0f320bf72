export { startEchoServer, type EchoOptions, type EchoServer } from './server.js';
