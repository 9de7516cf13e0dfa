// `serve` as a child process of a test, its JSON log collected: the port it listens on and its
// exit, for serve.test.ts (one process) and the scale tests' cluster (a gateway and workers).
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface Proc {
  name: string;
  child: ChildProcess;
  output: () => string;
  port: Promise<number>;
  exit: Promise<number | null>;
}

export function spawnServe(name: string, args: string[], env: Record<string, string>): Proc {
  const child = spawn(process.execPath, ['src/main.ts', 'serve', ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let resolvePort!: (p: number) => void;
  const port = new Promise<number>((r) => (resolvePort = r));
  const onData = (d: Buffer) => {
    out += d;
    const m = /"port":(\d+)[^\n]*"msg":"http listening"/.exec(out);
    if (m) resolvePort(Number(m[1]));
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exit = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  void exit.then(() => resolvePort(-1));
  return { name, child, output: () => out, port, exit };
}
