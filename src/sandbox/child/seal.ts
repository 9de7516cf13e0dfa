// Takes the network away from the Python thread before Pyodide loads. The network namespace is the
// real cut-off; this is the layer that holds where the host does not allow one (Docker's default
// profile): measured there, `pyodide_js.loadPackage(url)` fetched from loopback and a plain Python
// socket reached a loopback server through Emscripten's SOCKFS (`require("ws")`). The permission
// model has no network control, so every JavaScript road to a socket is closed here instead:
// network modules resolve to an empty stub, and the fetch-like globals are gone. (The worker's own
// static imports were linked before this runs: only what loads later, Pyodide, sees the stub.)
import { registerHooks } from 'node:module';

const NETWORK_MODULES = new Set([
  'ws', 'undici', 'net', 'tls', 'http', 'https', 'http2', 'dgram', 'dns', 'dns/promises',
  'inspector', 'inspector/promises', 'child_process', 'cluster',
  'worker_threads', // a Worker runs JavaScript from a string even where eval is disallowed
]);
const STUB = new URL('./denied.cjs', import.meta.url).href;
const bare = (specifier: string) => specifier.replace(/^node:/, '');

/** Module names Python must never get hold of through JavaScript. */
export function isDeniedModule(specifier: string): boolean {
  return NETWORK_MODULES.has(bare(specifier));
}

registerHooks({
  resolve(specifier, context, next) {
    if (isDeniedModule(specifier)) return { url: STUB, format: 'commonjs', shortCircuit: true };
    return next(specifier, context);
  },
});

const proc = process as unknown as { getBuiltinModule: (id: string) => unknown };
const getBuiltin = proc.getBuiltinModule.bind(process);
proc.getBuiltinModule = (id: string) => (isDeniedModule(String(id)) ? {} : getBuiltin(id));

const globals = globalThis as Record<string, unknown>;
for (const name of ['fetch', 'WebSocket', 'EventSource', 'XMLHttpRequest']) {
  delete globals[name];
  Object.defineProperty(globalThis, name, { value: undefined, writable: false, configurable: false });
}
