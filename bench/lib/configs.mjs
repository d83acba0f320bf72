// Configuration generators: the fixed backend, and each proxy under test for
// the three route shapes the workloads need:
//   basic  — everything to backend a, on an HTTP and an HTTPS port
//   routes — ROUTE_HOSTS × ROUTE_PATHS host+path routes, each also matching
//            a header `x-bench: r<i>`; anything else answers 404
//   split  — request header set/add/remove, a response header added, and a
//            50/50 split across backends a and b

export const ROUTE_HOSTS = 10;
export const ROUTE_PATHS = 100;
export const ROUTE_COUNT = ROUTE_HOSTS * ROUTE_PATHS;
/** The route the routes workload hits: the middle one. */
export const ROUTE_TARGET = 550;

export function routeOf(i) {
  return { host: `h${Math.floor(i / ROUTE_PATHS)}.bench.local`, path: `/p${i % ROUTE_PATHS}`, header: `r${i}` };
}

export const SMALL_BODY = 'hello from the archway bench backend, a small fixed response.\n'.padEnd(64, '.');

// ---------------------------------------------------------------- backend

export function backendNginxConf({ tmp, a, b }) {
  return `worker_processes 1;
daemon off;
user root;
pid ${tmp}/backend-nginx.pid;
error_log ${tmp}/backend-nginx-error.log warn;
events { worker_connections 16384; }
http {
  access_log off;
  client_body_temp_path ${tmp}/backend-nginx-body;
  keepalive_requests 100000000;
  keepalive_timeout 120s;
  sendfile on;
  default_type text/plain;
  server {
    listen 127.0.0.1:${a} backlog=4096;
    listen 127.0.0.1:${b} backlog=4096;
    add_header x-backend $server_port;
    add_header x-seen-set $http_x_bench_set;
    add_header x-seen-add $http_x_bench_add;
    add_header x-seen-remove $http_x_bench_remove;
    location = /64k { root ${tmp}/www; }
    # The body must be read in full before answering: a \`return\` here would
    # answer early, which keep-alive proxies handle differently. mirror with
    # mirror_request_body reads it first; the static handler refuses the POST
    # (405) and error_page turns that into a GET of www/upload ("uploaded\\n").
    location = /upload { client_max_body_size 8m; client_body_buffer_size 2m; mirror /upload-sink; mirror_request_body on; root ${tmp}/www; error_page 405 =200 /upload-done; }
    location = /upload-sink { internal; return 204; }
    location = /upload-done { internal; root ${tmp}/www; try_files /upload =500; }
    location / { return 200 "${SMALL_BODY}"; }
  }
}
`;
}

// ---------------------------------------------------------------- Archway

/** The Archway GatewayClass and a Gateway with an HTTP listener on `port`; more listeners may follow. */
export function gatewayYaml(port) {
  return `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: archway}
spec: {controllerName: archway.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: bench, namespace: default}
spec:
  gatewayClassName: archway
  listeners:
  - {name: http, protocol: HTTP, port: ${port}, allowedRoutes: {namespaces: {from: All}}}
`;
}

export function archwayFiles({ shape, port, tlsPort, a, b, certPem, keyPem }) {
  const b64 = (s) => Buffer.from(s).toString('base64');
  const gateway = `${gatewayYaml(port)}  - name: https
    protocol: HTTPS
    port: ${tlsPort}
    allowedRoutes: {namespaces: {from: All}}
    tls:
      mode: Terminate
      certificateRefs: [{kind: Secret, name: bench-tls}]
---
apiVersion: v1
kind: Secret
metadata: {name: bench-tls, namespace: default}
type: kubernetes.io/tls
data:
  tls.crt: ${b64(certPem)}
  tls.key: ${b64(keyPem)}
`;
  const backends = [['backend-a', a], ['backend-b', b]].map(([name, p]) => serviceYaml(name, 'default', p)).join('---\n');
  let routes;
  if (shape === 'routes') {
    const docs = [];
    for (let i = 0; i < ROUTE_COUNT; i++) {
      const r = routeOf(i);
      docs.push(`apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: route-${String(i).padStart(4, '0')}, namespace: default}
spec:
  parentRefs: [{name: bench}]
  hostnames: ["${r.host}"]
  rules:
  - matches:
    - path: {type: PathPrefix, value: ${r.path}}
      headers: [{name: x-bench, value: ${r.header}}]
    backendRefs: [{name: backend-a, port: 80}]
`);
    }
    routes = docs.join('---\n');
  } else if (shape === 'split') {
    routes = `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: split, namespace: default}
spec:
  parentRefs: [{name: bench}]
  rules:
  - filters:
    - type: RequestHeaderModifier
      requestHeaderModifier:
        set: [{name: x-bench-set, value: "1"}]
        add: [{name: x-bench-add, value: "1"}]
        remove: [x-bench-remove]
    - type: ResponseHeaderModifier
      responseHeaderModifier:
        add: [{name: x-bench-resp, value: "1"}]
    backendRefs:
    - {name: backend-a, port: 80, weight: 50}
    - {name: backend-b, port: 80, weight: 50}
`;
  } else {
    routes = `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: all, namespace: default}
spec:
  parentRefs: [{name: bench}]
  rules:
  - backendRefs: [{name: backend-a, port: 80}]
`;
  }
  return { 'gateway.yaml': gateway, 'backends.yaml': backends, 'routes.yaml': routes };
}

export function serviceYaml(name, namespace, port) {
  return `apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: ${namespace}}
spec:
  ports: [{name: http, port: 80}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: ${name}-1
  namespace: ${namespace}
  labels: {kubernetes.io/service-name: ${name}}
addressType: IPv4
ports: [{name: http, port: ${port}}]
endpoints: [{addresses: [127.0.0.1]}]
`;
}

// ---------------------------------------------------------------- nginx

export function nginxProxyConf({ shape, tmp, port, tlsPort, a, b, crt, key, workers = 1 }) {
  // proxy_set_header at a lower level replaces every inherited one, so the
  // split location repeats the common ones.
  const common = `proxy_set_header Host $http_host;
      proxy_set_header Connection "";`;
  let servers;
  if (shape === 'routes') {
    const blocks = [];
    for (let h = 0; h < ROUTE_HOSTS; h++) {
      const locs = [];
      for (let p = 0; p < ROUTE_PATHS; p++) {
        const r = routeOf(h * ROUTE_PATHS + p);
        locs.push(`    location ${r.path}/ { if ($http_x_bench != "${r.header}") { return 404; } proxy_pass http://backend_a; }`);
      }
      blocks.push(`  server {
    listen 127.0.0.1:${port};
    listen 127.0.0.1:${tlsPort} ssl;
    server_name ${routeOf(h * ROUTE_PATHS).host};
${locs.join('\n')}
  }`);
    }
    servers = `  server {
    listen 127.0.0.1:${port} default_server backlog=4096;
    listen 127.0.0.1:${tlsPort} ssl default_server backlog=4096;
    location / { return 404; }
  }
${blocks.join('\n')}`;
  } else if (shape === 'split') {
    servers = `  server {
    listen 127.0.0.1:${port} backlog=4096;
    listen 127.0.0.1:${tlsPort} ssl backlog=4096;
    location / {
      ${common}
      proxy_set_header x-bench-set 1;
      proxy_set_header x-bench-add 1;
      proxy_set_header x-bench-remove "";
      add_header x-bench-resp 1;
      proxy_pass http://backend_split;
    }
  }`;
  } else {
    servers = `  server {
    listen 127.0.0.1:${port} backlog=4096;
    listen 127.0.0.1:${tlsPort} ssl backlog=4096;
    location / { proxy_pass http://backend_a; }
  }`;
  }
  return `worker_processes ${workers};
daemon off;
user root;
pid ${tmp}/nginx-proxy.pid;
error_log ${tmp}/nginx-proxy-error.log warn;
events { worker_connections 16384; }
http {
  access_log off;
  client_body_temp_path ${tmp}/nginx-proxy-body;
  proxy_temp_path ${tmp}/nginx-proxy-temp;
  keepalive_requests 100000000;
  keepalive_timeout 120s;
  client_max_body_size 8m;
  server_names_hash_bucket_size 64;
  proxy_http_version 1.1;
  ${common}
  proxy_request_buffering off;
  proxy_buffers 32 8k;
  ssl_certificate ${crt};
  ssl_certificate_key ${key};
  upstream backend_a { server 127.0.0.1:${a}; keepalive 1024; keepalive_requests 100000000; keepalive_timeout 120s; }
  upstream backend_split { server 127.0.0.1:${a}; server 127.0.0.1:${b}; keepalive 1024; keepalive_requests 100000000; keepalive_timeout 120s; }
${servers}
}
`;
}

// ---------------------------------------------------------------- HAProxy

export function haproxyConf({ shape, port, tlsPort, a, b, pem }) {
  let frontend;
  if (shape === 'routes') {
    const rules = [];
    for (let i = 0; i < ROUTE_COUNT; i++) {
      const r = routeOf(i);
      rules.push(`  use_backend app if { hdr(host) -i ${r.host} } { path_beg ${r.path}/ } { req.hdr(x-bench) -m str ${r.header} }`);
    }
    frontend = `${rules.join('\n')}\n  default_backend notfound`;
  } else if (shape === 'split') {
    frontend = '  default_backend split';
  } else {
    frontend = '  default_backend app';
  }
  return `global
  nbthread 1
  maxconn 8000
  tune.ssl.default-dh-param 2048
defaults
  mode http
  timeout connect 5s
  timeout client 120s
  timeout server 120s
  timeout http-keep-alive 120s
  timeout http-request 30s
  option http-keep-alive
  http-reuse always
frontend bench
  bind 127.0.0.1:${port}
  bind 127.0.0.1:${tlsPort} ssl crt ${pem}
${frontend}
backend app
  server a 127.0.0.1:${a}
backend split
  balance roundrobin
  http-request set-header x-bench-set 1
  http-request add-header x-bench-add 1
  http-request del-header x-bench-remove
  http-response add-header x-bench-resp 1
  server a 127.0.0.1:${a}
  server b 127.0.0.1:${b}
backend notfound
  http-request return status 404
`;
}
