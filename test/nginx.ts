import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './process.js';

/**
 * A real load balancer for the replica tests: Debian's nginx, started on a free loopback port with a
 * throw-away configuration (pid file, logs and temp paths in a temporary directory, `daemon off`).
 * Without nginx installed the tests skip with a message, unless RAPPORT_TEST_REQUIRE_NGINX=1.
 */
export const NGINX_BIN = ['/usr/sbin/nginx', '/usr/local/sbin/nginx'].find((p) => fs.existsSync(p));
const required = process.env.RAPPORT_TEST_REQUIRE_NGINX === '1';
if (!NGINX_BIN && required)
  throw new Error(
    'nginx is required (RAPPORT_TEST_REQUIRE_NGINX=1) but /usr/sbin/nginx is missing: apt-get install nginx-light',
  );
if (!NGINX_BIN)
  console.warn(
    '[test] nginx is not installed (apt-get install nginx-light): the proxy replica tests are skipped',
  );
export const HAVE_NGINX = NGINX_BIN !== undefined;

export interface Nginx {
  url: string;
  stop(): Promise<void>;
  errorLog(): string;
}

/**
 * Round-robin over `upstreams` (`http://127.0.0.1:PORT`), configured as docs/operations.md recommends.
 * Every answer says which replica served it (`x-upstream`). A replica that refuses connections is skipped
 * (`proxy_next_upstream error`); a write it was already sent is never retried elsewhere.
 */
export async function startNginx(upstreams: string[]): Promise<Nginx> {
  const dir = fs.mkdtempSync(path.join(tmpdir(), 'rapport-nginx-'));
  const port = await freePort();
  const servers = upstreams
    .map((u) => `    server ${new URL(u).host} max_fails=1 fail_timeout=1s;`)
    .join('\n');
  const conf = `
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 512; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream rapport {
${servers}
    keepalive 32;
    keepalive_timeout 60s;
  }
  server {
    listen 127.0.0.1:${port};
    client_max_body_size 1m;
    location / {
      proxy_pass http://rapport;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_read_timeout 60s;
      proxy_connect_timeout 2s;
      proxy_next_upstream error timeout http_503;
      add_header X-Upstream $upstream_addr always;
    }
  }
}
`;
  fs.writeFileSync(path.join(dir, 'nginx.conf'), conf);
  const child: ChildProcess = spawn(NGINX_BIN!, ['-p', `${dir}/`, '-c', `${dir}/nginx.conf`], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => {
    out += String(d);
  });
  child.stderr!.on('data', (d) => {
    out += String(d);
  });
  const errorLog = () => {
    try {
      return out + fs.readFileSync(path.join(dir, 'error.log'), 'utf8');
    } catch {
      return out;
    }
  };
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited (${child.exitCode}):\n${errorLog()}`);
    try {
      await fetch(`${url}/healthz`);
      break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`nginx did not start:\n${errorLog()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    errorLog,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGQUIT');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await once(child, 'exit');
        clearTimeout(timer);
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
