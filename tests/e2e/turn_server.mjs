// Debian's coturn on 127.0.0.1 with long-term credentials (user `test`, password `secret`),
// for tests that force calls through TURN. One place for its flags, start-up and teardown.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './harness.mjs';

const TURNSERVER = '/usr/bin/turnserver';

const portOpen = (port) => new Promise((resolveOpen) => {
  const s = connect(port, '127.0.0.1', () => { s.destroy(); resolveOpen(true); });
  s.on('error', () => resolveOpen(false));
});

/**
 * Starts coturn on a free port and returns `{ port, start, stop, iceOptions }`. `stop()` kills
 * it (its allocations die with it) and `start()` brings it back on the same port.
 * `iceOptions(credential, port)` are the join options for a relay-only call through it (or
 * through something on `port` in front of it, such as the UDP shaper).
 */
export async function startTurn() {
  if (!existsSync(TURNSERVER)) throw new Error('coturn is missing: cargo xtask setup installs it');
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'teleconsult-turn-'));
  let child = null;
  const start = async () => {
    child = spawn(TURNSERVER, ['-n', '--listening-ip=127.0.0.1', '--relay-ip=127.0.0.1', `--listening-port=${port}`,
      '--lt-cred-mech', '--user=test:secret', '--realm=teleconsult.test', '--no-tls', '--no-dtls', '--no-cli',
      '--allow-loopback-peers', `--userdb=${join(dir, 'turndb')}`, `--pidfile=${join(dir, 'turn.pid')}`,
      '--log-file=stdout', '--simple-log'], { stdio: 'ignore' });
    const deadline = Date.now() + 10_000;
    while (!(await portOpen(port))) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error('coturn did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const kill = async () => {
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  };
  await start();
  return {
    port,
    start,
    stop: kill,
    /** Stops coturn and removes its files. */
    async close() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
    iceOptions(credential = 'secret', via = port) {
      return {
        iceServers: [{ urls: `turn:127.0.0.1:${via}?transport=udp`, username: 'test', credential }],
        iceTransportPolicy: 'relay',
      };
    },
  };
}
