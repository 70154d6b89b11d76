# workerd's config for the ssekit Worker, copied next to the build by scripts/worker-build.
# scripts/worker-local serves it with
#   workerd serve worker/build/workerd.capnp --socket-addr http=127.0.0.1:PORT --directory-path state=STATE_DIR
# Settings come from the environment of workerd (unset: the Worker's defaults, as in wrangler.toml).
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .ssekit),
    # Where the Durable Objects keep their SQLite files: on disk, so streams survive a restart.
    (name = "state", disk = (path = "state", writable = true)),
  ],
  sockets = [(name = "http", address = "127.0.0.1:8787", http = (), service = "main")],
);

const ssekit :Workerd.Worker = (
  compatibilityDate = "2025-09-01",
  modules = [
    (name = "index.js", esModule = embed "index.js"),
    (name = "index_bg.wasm", wasm = embed "index_bg.wasm"),
  ],
  durableObjectNamespaces = [
    (className = "Stream", uniqueKey = "ssekit-streams", enableSql = true),
  ],
  durableObjectStorage = (localDisk = "state"),
  bindings = [
    (name = "STREAMS", durableObjectNamespace = "Stream"),
    (name = "RETRY_MS", fromEnvironment = "SSEKIT_RETRY_MS"),
    (name = "KEEPALIVE_MS", fromEnvironment = "SSEKIT_KEEPALIVE_MS"),
    (name = "CORS_ORIGINS", fromEnvironment = "SSEKIT_CORS_ORIGINS"),
    (name = "DEMO_API_ORIGINS", fromEnvironment = "SSEKIT_DEMO_API_ORIGINS"),
    (name = "MAX_BODY", fromEnvironment = "SSEKIT_MAX_BODY"),
    (name = "SUBSCRIBER_BUFFER", fromEnvironment = "SSEKIT_SUBSCRIBER_BUFFER"),
    (name = "SUBSCRIBER_BUFFER_BYTES", fromEnvironment = "SSEKIT_SUBSCRIBER_BUFFER_BYTES"),
    (name = "STALL_TIMEOUT_MS", fromEnvironment = "SSEKIT_STALL_TIMEOUT_MS"),
    (name = "BODY_TIMEOUT_MS", fromEnvironment = "SSEKIT_BODY_TIMEOUT_MS"),
    (name = "RETENTION_MS", fromEnvironment = "SSEKIT_RETENTION_MS"),
    # Who may do what (see wrangler.toml): unset, auth is off.
    (name = "AUTH_SECRET", fromEnvironment = "SSEKIT_AUTH_SECRET"),
    (name = "AUTH_PUBLIC_KEY", fromEnvironment = "SSEKIT_AUTH_PUBLIC_KEY"),
    (name = "AUTH_TOKEN_SECRET", fromEnvironment = "SSEKIT_AUTH_TOKEN_SECRET"),
    (name = "AUTH_AUDIENCE", fromEnvironment = "SSEKIT_AUTH_AUDIENCE"),
    (name = "AUTH_ISSUER", fromEnvironment = "SSEKIT_AUTH_ISSUER"),
    (name = "TOKEN_TTL_MS", fromEnvironment = "SSEKIT_TOKEN_TTL_MS"),
  ],
);
