import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ImapFlow } from 'imapflow';

/**
 * A real IMAP server for the mailroom's tests: Debian's Dovecot, started on a free loopback port with a
 * throw-away configuration, a passwd-file user and Maildir storage in a temporary directory.
 * Without dovecot installed the tests skip with a message, unless RAPPORT_TEST_REQUIRE_DOVECOT=1.
 */
export const DOVECOT_BIN = ['/usr/sbin/dovecot', '/usr/local/sbin/dovecot'].find((p) => fs.existsSync(p));
const required = process.env.RAPPORT_TEST_REQUIRE_DOVECOT === '1';
if (!DOVECOT_BIN && required)
  throw new Error(
    'Dovecot is required (RAPPORT_TEST_REQUIRE_DOVECOT=1) but /usr/sbin/dovecot is missing: apt-get install dovecot-imapd',
  );
if (!DOVECOT_BIN)
  console.warn(
    '[test] dovecot is not installed (apt-get install dovecot-imapd): the IMAP mailroom tests are skipped',
  );
export const HAVE_DOVECOT = DOVECOT_BIN !== undefined;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

async function waitForPort(port: number, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`dovecot did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export class Dovecot {
  readonly user = 'crm';
  readonly password = `pw-${Math.random().toString(36).slice(2)}`;
  port = 0;
  private dir = '';

  async start(): Promise<void> {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-dovecot-'));
    fs.chmodSync(this.dir, 0o755);
    this.port = await freePort();
    const asRoot = process.getuid?.() === 0;
    const me = os.userInfo().username;
    const mailUser = asRoot ? 'dovecot' : me;
    for (const d of ['run', 'state', 'mail', 'home']) fs.mkdirSync(path.join(this.dir, d));
    if (asRoot) {
      const { uid, gid } = lookupUser('dovecot');
      for (const d of ['mail', 'home']) fs.chownSync(path.join(this.dir, d), uid, gid);
    }
    fs.writeFileSync(path.join(this.dir, 'passwd'), `${this.user}:{PLAIN}${this.password}\n`);
    fs.writeFileSync(
      path.join(this.dir, 'dovecot.conf'),
      `base_dir = ${this.dir}/run
state_dir = ${this.dir}/state
log_path = ${this.dir}/dovecot.log
instance_name = rapport-test-${this.port}
ssl = no
protocols = imap
listen = 127.0.0.1
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:${this.dir}/mail/%u
default_internal_user = ${asRoot ? 'dovecot' : me}
default_login_user = ${asRoot ? 'dovenull' : me}
first_valid_uid = 1
service imap-login {
  chroot =
  inet_listener imap {
    address = 127.0.0.1
    port = ${this.port}
  }
  inet_listener imaps {
    port = 0
  }
}
# a wrong password is answered at once: Dovecot's brute-force delays (2 s, then up to 15 s per address)
# would only slow the tests of refused logins, which all come from 127.0.0.1
auth_failure_delay = 0
service anvil {
  chroot =
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${this.dir}/passwd
}
userdb {
  driver = static
  args = uid=${mailUser} gid=${asRoot ? 'dovecot' : String(os.userInfo().gid)} home=${this.dir}/home/%u
}
`,
    );
    // dovecot daemonises; its children must not hold our pipes open, or spawnSync would wait for them forever
    const errFile = path.join(this.dir, 'start.err');
    const errFd = fs.openSync(errFile, 'w');
    const res = spawnSync(DOVECOT_BIN!, ['-c', path.join(this.dir, 'dovecot.conf')], {
      stdio: ['ignore', 'ignore', errFd],
    });
    fs.closeSync(errFd);
    if (res.status !== 0)
      throw new Error(`dovecot did not start: ${fs.readFileSync(errFile, 'utf8')}${this.log()}`);
    await waitForPort(this.port);
  }

  log(): string {
    try {
      return fs.readFileSync(path.join(this.dir, 'dovecot.log'), 'utf8');
    } catch {
      return '';
    }
  }

  async stop(): Promise<void> {
    if (!this.dir) return;
    const pidFile = path.join(this.dir, 'run', 'master.pid');
    if (fs.existsSync(pidFile)) {
      const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
      try {
        process.kill(pid, 'SIGTERM');
      } catch {}
      for (let i = 0; i < 50 && fs.existsSync(pidFile); i++) await new Promise((r) => setTimeout(r, 100));
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** Drops every connection of the test user on the server side (`doveadm kick`), as a server restart would. */
  kick(): void {
    const res = spawnSync('doveadm', ['-c', path.join(this.dir, 'dovecot.conf'), 'kick', this.user], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    if (res.status !== 0) throw new Error(`doveadm kick failed: ${res.stderr}${res.stdout}`);
  }

  /** A client logged in as the test user (for delivering mail by APPEND and looking at flags). */
  async client(): Promise<ImapFlow> {
    const c = new ImapFlow({
      host: '127.0.0.1',
      port: this.port,
      secure: false,
      auth: { user: this.user, pass: this.password },
      logger: false,
    });
    c.on('error', () => {});
    await c.connect();
    return c;
  }

  /** Delivers messages into a folder by APPEND (creating the folder if needed). */
  async deliver(folder: string, messages: Buffer[], flags: string[] = []): Promise<void> {
    const c = await this.client();
    try {
      if (folder !== 'INBOX') await c.mailboxCreate(folder).catch(() => {});
      for (const m of messages) await c.append(folder, m, flags);
    } finally {
      await c.logout();
    }
  }
}

function lookupUser(name: string): { uid: number; gid: number } {
  const line = fs
    .readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  if (!line) throw new Error(`no system user ${name}`);
  const parts = line.split(':');
  return { uid: Number(parts[2]), gid: Number(parts[3]) };
}
