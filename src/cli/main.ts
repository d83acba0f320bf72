import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { startAdminServer } from '../admin/server.js';
import { DataPlane } from '../dataplane/index.js';
import { startEchoServer, startGRPCEchoServer, startTCPEchoServer, startUDPEchoServer, type EchoOptions } from '../echo/index.js';
import type { IRConfig } from '../ir/types.js';
import { FileProvider, formatProblem, loadConfig } from '../provider/index.js';
import { AddressPool } from '../runtime/address-pool.js';
import { Controller } from '../runtime/controller.js';
import { lowerHelperThreadPriority } from '../runtime/helper-threads.js';
import { createMetrics, exposeDataPlaneStats } from '../runtime/metrics.js';
import { WorkerPool } from '../runtime/workers.js';
import { createLogger, type Logger } from '../util/log.js';

const CONTROLLER_NAME = 'archway.dev/gateway-controller';
const DRAIN_TIMEOUT_MS = 10_000;

interface Command {
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run(values: Values, positionals: string[]): Promise<number | void>;
}

const COMMANDS: Record<string, Command> = {
  serve: {
    summary: 'serve traffic for the Gateway API resources in a file or directory, reloading on change',
    usage: `archway serve --config <file|dir> [options]

Options:
  --config PATH         YAML/JSON file or directory of Kubernetes resources (required)
  --admin HOST:PORT     admin server for /status /config /healthz /readyz /metrics (default 127.0.0.1:9901)
  --bind-address IP     address for Gateways without spec.addresses (default 0.0.0.0)
  --address-pool CIDR   give each Gateway without spec.addresses its own address from this IPv4 range
  --workers N           data-plane processes sharing the listeners (default: available cores);
                        1 serves from this process, more run as workers fed by this one
  --log-level LEVEL     trace, debug, info, warn, error (default info)`,
    options: {
      config: { type: 'string' },
      workers: { type: 'string' },
      admin: { type: 'string', default: '127.0.0.1:9901' },
      'bind-address': { type: 'string', default: '0.0.0.0' },
      'address-pool': { type: 'string' },
      'log-level': { type: 'string', default: 'info' },
    },
    run: (v) => serve(v),
  },
  validate: {
    summary: 'check resources without serving; exits 1 and lists every problem as file:line: message',
    usage: 'archway validate <file|dir>',
    options: {},
    run: async (_v, positionals) => {
      if (positionals.length !== 1) throw new UsageError('validate takes exactly one path');
      const result = await loadConfig(positionals[0]!);
      for (const p of result.problems) console.log(formatProblem(p));
      const count = Object.values(result.snapshot).reduce((n, list) => n + list.length, 0);
      if (result.problems.length > 0) {
        console.log(`${result.problems.length} problem(s) found; ${count} valid object(s)`);
        return 1;
      }
      console.log(`ok: ${count} object(s)`);
      return 0;
    },
  },
  echo: {
    summary: 'run an echo backend answering every request with JSON describing it',
    usage: `archway echo --port N [--host IP] [--namespace NS] [--service NAME] [--pod NAME] [--mode http|tcp|udp|grpc]
                    [--h2c-port N] [--https-port N --tls-cert FILE --tls-key FILE [--tls-client-ca FILE]]
                    [--tls-port N --tls-cert FILE --tls-key FILE]

Behaves like the Gateway API conformance image echo-basic: /ws echoes websocket
frames, /status/NNN and /retry/... simulate failures, and every echoed request
is logged on stdout as "Echoing back request made to <uri> to client (<addr>)".

Options:
  --mode MODE           http (default); tcp: greets each connection and answers TEST, IS_TLS
                        and PING lines (upstream's TCP_ECHO_SERVER); udp: answers every datagram
                        with JSON (upstream's UDP_ECHO_SERVER); grpc: the GrpcEcho service of
                        upstream's GRPC_ECHO_SERVER over cleartext HTTP/2
  --h2c-port N          http: also serve HTTP/2 with prior knowledge here (upstream's H2C_PORT)
  --https-port N        http: also serve HTTPS (h2 and http/1.1) here; grpc: also serve gRPC over TLS
                        here (upstream's HTTPS_PORT)
  --tls-port N          tcp: also serve the TCP echo over TLS here (upstream's TLS_PORT)
  --tls-cert FILE       PEM certificate for --https-port or --tls-port (upstream's TLS_SERVER_CERT)
  --tls-key FILE        PEM private key for --https-port or --tls-port (upstream's TLS_SERVER_PRIVKEY, in tcp and grpc
                        mode TLS_SERVER_PRIV_KEY)
  --tls-client-ca FILE  http: verify client certificates against these CAs when given (upstream's TLS_CLIENT_CACERTS)`,
    options: {
      port: { type: 'string' },
      host: { type: 'string', default: '0.0.0.0' },
      namespace: { type: 'string' },
      service: { type: 'string' },
      pod: { type: 'string' },
      mode: { type: 'string', default: 'http' },
      'h2c-port': { type: 'string' },
      'https-port': { type: 'string' },
      'tls-port': { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'tls-client-ca': { type: 'string' },
    },
    run: async (v) => {
      const mode = v.mode as string;
      const modeFlags = ECHO_MODE_FLAGS[mode];
      if (!modeFlags) throw new UsageError('--mode must be http, tcp, udp or grpc');
      for (const flag of new Set(Object.values(ECHO_MODE_FLAGS).flat())) {
        if (v[flag] !== undefined && !modeFlags.includes(flag)) throw new UsageError(`--${flag} does not apply to --mode ${mode}`);
      }
      const opts = {
        port: parsePort(v.port, '--port'), host: v.host as string, namespace: v.namespace as string | undefined,
        service: v.service as string | undefined, pod: v.pod as string | undefined,
        // Conformance checks search the backend's output for these lines, so they go straight to stdout.
        log: (line: string) => process.stdout.write(`${line}\n`),
      };
      const listening = (port: number, tag?: string) => console.log(`echo listening on ${opts.host}:${port}${tag ? ` (${tag})` : ''}`);
      let close: () => Promise<void>;
      if (mode === 'tcp') {
        const tls = echoTLSFiles(v, 'tls-port');
        const echo = await startTCPEchoServer({ ...opts, ...(tls ? { tls: { port: parsePort(v['tls-port'], '--tls-port'), ...tls } } : {}) });
        listening(echo.port, 'tcp');
        if (echo.tlsPort !== undefined) listening(echo.tlsPort, 'tls');
        close = echo.close;
      } else if (mode === 'udp') {
        const echo = await startUDPEchoServer(opts);
        listening(echo.port, 'udp');
        close = echo.close;
      } else if (mode === 'grpc') {
        const tls = echoTLSFiles(v, 'https-port');
        const echo = await startGRPCEchoServer({ ...opts, ...(tls ? { tls: { port: parsePort(v['https-port'], '--https-port'), ...tls } } : {}) });
        listening(echo.port, 'grpc');
        if (echo.tlsPort !== undefined) listening(echo.tlsPort, 'grpc-tls');
        close = echo.close;
      } else {
        const h2cPort = v['h2c-port'] === undefined ? undefined : parsePort(v['h2c-port'], '--h2c-port');
        const tls = echoTLSFiles(v, 'https-port');
        const https: EchoOptions['https'] = tls && {
          port: parsePort(v['https-port'], '--https-port'), ...tls,
          clientCa: typeof v['tls-client-ca'] === 'string' ? readFileSync(v['tls-client-ca']) : undefined,
        };
        const echo = await startEchoServer({ ...opts, h2cPort, https });
        listening(echo.port);
        if (echo.h2cPort !== undefined) listening(echo.h2cPort, 'h2c');
        if (echo.httpsPort !== undefined) listening(echo.httpsPort, 'https');
        close = echo.close;
      }
      await untilSignal();
      await close();
    },
  },
};

type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

class UsageError extends Error {}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(topLevelHelp());
    return name ? 0 : 2;
  }
  if (name === '--version' || name === 'version') {
    console.log(packageVersion());
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`unknown command ${JSON.stringify(name)}\n\n${topLevelHelp()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(`${command.summary}\n\nUsage: ${command.usage}`);
    return 0;
  }
  try {
    const { values, positionals } = parseArgs({ args: rest, options: command.options, allowPositionals: true, strict: true });
    return (await command.run(values, positionals)) ?? 0;
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`${(err as Error).message}\n\nUsage: ${command.usage}`);
      return 2;
    }
    throw err;
  }
}

function topLevelHelp(): string {
  const lines = Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(10)}${c.summary}`);
  return `archway ${packageVersion()} - Kubernetes Gateway API gateway\n\nUsage: archway <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun 'archway <command> --help' for a command's options.`;
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** The flags each `archway echo --mode` takes beyond the common ones. */
const ECHO_MODE_FLAGS: Record<string, string[]> = {
  http: ['h2c-port', 'https-port', 'tls-cert', 'tls-key', 'tls-client-ca'],
  tcp: ['tls-port', 'tls-cert', 'tls-key'],
  udp: [],
  grpc: ['https-port', 'tls-cert', 'tls-key'],
};

/** The certificate and key of the echo's TLS listener, when its port flag is given. */
function echoTLSFiles(v: Values, portFlag: string): { cert: Buffer; key: Buffer } | undefined {
  if (v[portFlag] === undefined) {
    if (v['tls-cert'] !== undefined || v['tls-key'] !== undefined || v['tls-client-ca'] !== undefined) {
      throw new UsageError(`${portFlag === 'https-port' ? '--tls-cert, --tls-key and --tls-client-ca' : '--tls-cert and --tls-key'} need --${portFlag}`);
    }
    return undefined;
  }
  if (typeof v['tls-cert'] !== 'string' || typeof v['tls-key'] !== 'string') throw new UsageError(`--${portFlag} needs --tls-cert and --tls-key`);
  return { cert: readFileSync(v['tls-cert']), key: readFileSync(v['tls-key']) };
}

function parsePort(value: unknown, flag: string): number {
  const port = Number(value);
  if (typeof value !== 'string' || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`${flag} must be a port number between 0 and 65535`);
  }
  return port;
}

function parseHostPort(value: string, flag: string): { host: string; port: number } {
  const i = value.lastIndexOf(':');
  if (i <= 0) throw new UsageError(`${flag} must be HOST:PORT`);
  return { host: value.slice(0, i).replace(/^\[(.*)\]$/, '$1'), port: parsePort(value.slice(i + 1), flag) };
}

async function serve(v: Values): Promise<number> {
  if (typeof v.config !== 'string') throw new UsageError('--config is required');
  const admin = parseHostPort(v.admin as string, '--admin');
  let pool: AddressPool | undefined;
  try {
    pool = typeof v['address-pool'] === 'string' ? new AddressPool(v['address-pool']) : undefined;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const workers = v.workers === undefined ? availableParallelism() : Number(v.workers);
  if (!Number.isInteger(workers) || workers < 1 || workers > 256) throw new UsageError('--workers must be a whole number from 1 to 256');
  const logLevel = v['log-level'] as string;
  const logger = createLogger(logLevel);
  const metrics = createMetrics();
  const dataPlane = workers === 1 ? inProcessDataPlane(logger) : new WorkerPool({ count: workers, logger, logLevel });
  exposeDataPlaneStats(metrics, () => dataPlane.stats());
  const controller = new Controller({
    logger, controllerName: CONTROLLER_NAME, bindAddress: v['bind-address'] as string, addressPool: pool, dataPlane, metrics,
  });
  const adminServer = await startAdminServer(controller, metrics.registry, admin.host, admin.port);
  logger.info({ admin: `${adminServer.address.host}:${adminServer.address.port}` }, 'admin server listening');

  const provider = new FileProvider(v.config, { logger });
  const report = (problems: { file: string; line?: number; message: string }[]) => {
    for (const p of problems) logger.warn({ problem: formatProblem(p) }, 'configuration problem');
  };
  provider.onChange((result) => {
    report(result.problems);
    void controller.submit(result.snapshot);
  });
  const initial = await provider.start();
  report(initial.problems);
  await controller.submit(initial.snapshot);

  const signal = await untilSignal();
  logger.info({ signal }, 'draining');
  await provider.close();
  await dataPlane.shutdown(DRAIN_TIMEOUT_MS);
  await adminServer.close();
  return 0;
}

/** The data plane in this process, behind the same asynchronous face as a WorkerPool. */
function inProcessDataPlane(logger: Logger) {
  const dataPlane = new DataPlane({ logger });
  return {
    apply: async (ir: IRConfig) => {
      const result = await dataPlane.apply(ir);
      lowerHelperThreadPriority(logger);
      return result;
    },
    stats: async () => dataPlane.stats(),
    shutdown: (timeoutMs: number) => dataPlane.shutdown(timeoutMs),
  };
}

function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    const onSignal = (signal: string) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
