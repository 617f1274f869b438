import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CLI_ACTOR } from '../audit/audit.repository.js';
import { loadCommonPasswords } from '../auth/common-passwords.js';
import { passwordProblem } from '../auth/password-policy.js';
import { ConfigError, parseConfig } from '../config.js';
import { type AppContext, closeContext, createContext } from '../context.js';
import { BackupError, backupSqlite, inspectBackup, restoreSqlite } from '../db/backup.js';
import { openDatabase } from '../db/database.js';
import { transaction } from '../db/direct-transaction.js';
import { migrateToLatest } from '../db/migrate.js';
import { randomToken } from '../platform/crypto.js';
import { masterKeyCheckValue } from '../platform/master-key-check.js';
import { createSecretBox, MASTER_KEY_FILE } from '../platform/secrets.js';
import { RAPPORT_VERSION } from '../platform/version.js';
import { serve } from '../server.js';
import { createUser } from '../users/user.service.js';
import { NoSuchUserError, resetPasswordFromCli } from './reset-password.js';

const USAGE = `Usage: rapport <command>

Commands:
  serve                          start the server (default)
  migrate                        apply database migrations and exit
  backup FILE                    copy the SQLite database to FILE while Rapport keeps serving
  restore FILE                   replace the SQLite database with the backup FILE (stop Rapport first)
  --version                      print the version
  create-admin --username U --email E [--first-name F] [--last-name L] [--password-stdin]
                                 create an administrator; prints a generated password unless one is piped in
  reset-password <username> [--password-stdin]
                                 set a new password (generated and printed unless piped in); ends their sessions
`;

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      username: { type: 'string' },
      email: { type: 'string' },
      'first-name': { type: 'string' },
      'last-name': { type: 'string' },
      'password-stdin': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  });
  const [command = 'serve', ...rest] = positionals;
  if (values.help || command === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (values.version || command === 'version') {
    process.stdout.write(`rapport ${RAPPORT_VERSION}\n`);
    return 0;
  }
  const config = parseConfig();
  switch (command) {
    case 'backup':
      return backup(config, rest[0]);
    case 'restore':
      return restore(config, rest[0]);
    case 'serve':
      await serve(config);
      return -1; // keep running
    case 'migrate': {
      if (config.database.kind === 'sqlite') mkdirSync(config.dataDir, { recursive: true });
      const db = openDatabase(config.database);
      try {
        const applied = await migrateToLatest(db);
        process.stdout.write(
          applied.length ? `Applied: ${applied.join(', ')}\n` : 'Database is up to date.\n',
        );
      } finally {
        await db.close();
      }
      return 0;
    }
    case 'create-admin':
      return withContext(config, async (ctx) => {
        if (!values.username || !values.email)
          throw new UsageError('create-admin needs --username and --email');
        const { password, generated } = choosePassword(values['password-stdin']);
        await transaction(ctx.db.kysely, (trx) =>
          createUser(
            ctx,
            trx,
            {
              username: values.username!,
              email: values.email!,
              password,
              firstName: values['first-name'] ?? '',
              lastName: values['last-name'] ?? values.username!,
              isAdmin: true,
            },
            CLI_ACTOR,
          ),
        );
        process.stdout.write(`Created administrator ${values.username}.\n`);
        if (generated) process.stdout.write(`Password (shown once): ${password}\n`);
      });
    case 'reset-password':
      return withContext(config, async (ctx) => {
        const username = rest[0];
        if (!username) throw new UsageError('reset-password needs a username');
        const piped = values['password-stdin'] ? readPasswordFromStdin() : undefined;
        const done = await resetPasswordFromCli(ctx, username, piped).catch((err: unknown) => {
          throw err instanceof NoSuchUserError ? new UsageError(err.message) : err;
        });
        process.stdout.write(`Password of ${done.username} changed; their sessions have ended.\n`);
        if (done.generated) process.stdout.write(`New password (shown once): ${done.password}\n`);
      });
    default:
      throw new UsageError(`Unknown command "${command}".`);
  }
}

class UsageError extends Error {}

type Config = ReturnType<typeof parseConfig>;

const PG_BACKUP_HINT =
  'With PostgreSQL, back up with pg_dump and restore with pg_restore (see docs/operations.md, Backups).';

async function backup(config: Config, file: string | undefined): Promise<number> {
  if (!file) throw new UsageError('backup needs a FILE to write');
  if (config.database.kind !== 'sqlite') throw new BackupError(PG_BACKUP_HINT);
  const dest = path.resolve(file);
  const { pages } = await backupSqlite(config.database.file, dest);
  process.stdout.write(
    `Backed up ${config.database.file} to ${dest} (${pages} pages).\n` +
      'Access keys in it are sealed with the master key: keep RAPPORT_SECRET_KEY (or DATA_DIR/secret.key)\n' +
      'safe too, stored apart from the backup; without it the keys in the backup cannot be read.\n',
  );
  return 0;
}

async function restore(config: Config, file: string | undefined): Promise<number> {
  if (!file) throw new UsageError('restore needs the backup FILE to read');
  if (config.database.kind !== 'sqlite') throw new BackupError(PG_BACKUP_HINT);
  const source = path.resolve(file);
  const found = inspectBackup(source);
  const keyFile = path.join(config.dataDir, MASTER_KEY_FILE);
  if (!config.secretKeyHex && !existsSync(keyFile)) {
    throw new BackupError(
      `No master key: set RAPPORT_SECRET_KEY, or copy the ${MASTER_KEY_FILE} that belongs to this backup ` +
        `into ${config.dataDir}, before restoring.`,
    );
  }
  const hex = config.secretKeyHex ?? readFileSync(keyFile, 'utf8').trim();
  if (found.keyCheck && found.keyCheck !== masterKeyCheckValue(createSecretBox(Buffer.from(hex, 'hex')))) {
    throw new BackupError(
      `${config.secretKeyHex ? 'RAPPORT_SECRET_KEY' : keyFile} is not the master key this backup was made ` +
        'with: its access keys could not be read. Use the key that was in use when the backup was taken.',
    );
  }
  await restoreSqlite(source, config.database.file);
  process.stdout.write(
    `Restored ${source} into ${config.database.file} (${found.migrations.length} migrations applied in it; ` +
      'newer ones run on the next start).\n',
  );
  return 0;
}

function readPasswordFromStdin(): string {
  return readFileSync(0, 'utf8').replace(/\r?\n$/, '');
}

function choosePassword(fromStdin: boolean | undefined): { password: string; generated: boolean } {
  if (!fromStdin) return { password: randomToken(18), generated: true };
  const password = readPasswordFromStdin();
  const problem = passwordProblem(password, { commonPasswords: loadCommonPasswords() });
  if (problem) throw new UsageError(problem);
  return { password, generated: false };
}

async function withContext(config: Config, fn: (ctx: AppContext) => Promise<void>): Promise<number> {
  // a one-shot command serves no cached requests: it publishes auth changes but need not listen
  const ctx = await createContext({ ...config, logLevel: 'warn', authCacheListen: false });
  try {
    await fn(ctx);
    return 0;
  } finally {
    await closeContext(ctx);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: unknown) => {
    if (err instanceof BackupError) {
      process.stderr.write(`rapport: ${err.message}\n`);
      process.exit(1);
    }
    if (err instanceof ConfigError || err instanceof UsageError) {
      process.stderr.write(`${err.message}\n${err instanceof UsageError ? `\n${USAGE}` : ''}`);
      process.exit(2);
    }
    const e = err as { code?: string; message?: string };
    process.stderr.write(
      `rapport: ${e.code === 'USERNAME_TAKEN' || e.code === 'PASSWORD_TOO_WEAK' ? e.message : String(err)}\n`,
    );
    process.exit(1);
  },
);
