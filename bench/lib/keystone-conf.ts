import { join } from 'node:path';

/** Settings that shape the peer Keystone's configuration files. */
export interface KeystoneConfInput {
  workdir: string;
  /** Port keystone's uwsgi HTTP router listens on (127.0.0.1). */
  port: number;
  /** memcached port on 127.0.0.1, or undefined to leave the cache off. */
  memcachedPort?: number;
  passwordHash: { algorithm: 'bcrypt'; rounds: number };
  /** Number of uwsgi worker processes. */
  processes?: number;
}

/** Paths of everything the peer keeps inside its workdir. */
export function keystonePaths(workdir: string) {
  return {
    conf: join(workdir, 'keystone.conf'),
    uwsgiIni: join(workdir, 'uwsgi.ini'),
    db: join(workdir, 'keystone.db'),
    fernetKeys: join(workdir, 'fernet-keys'),
    credentialKeys: join(workdir, 'credential-keys'),
    policyFile: join(workdir, 'policy.yaml'),
    policyDir: join(workdir, 'policy.d'),
    shimModule: join(workdir, 'peer_sqlite_shim.py'),
    keystoneLog: join(workdir, 'keystone.log'),
    uwsgiLog: join(workdir, 'uwsgi.log'),
    memcachedLog: join(workdir, 'memcached.log'),
  };
}

/**
 * keystone.conf text for a self-contained peer: every path points into the workdir so that
 * nothing under /etc/keystone or /var/lib/keystone is read or written.
 */
export function keystoneConf(input: KeystoneConfInput): string {
  const p = keystonePaths(input.workdir);
  const cache =
    input.memcachedPort === undefined
      ? ['[cache]', 'enabled = false']
      : [
          '[cache]',
          'enabled = true',
          'backend = oslo_cache.memcache_pool',
          `memcache_servers = 127.0.0.1:${input.memcachedPort}`,
        ];
  return [
    '[DEFAULT]',
    `log_file = ${p.keystoneLog}`,
    'use_stderr = false',
    '',
    '[database]',
    `connection = sqlite:///${p.db}`,
    '',
    '[token]',
    'provider = fernet',
    '',
    '[fernet_tokens]',
    `key_repository = ${p.fernetKeys}`,
    '',
    // Receipts default to /etc/keystone/fernet-keys; share the peer's own token keys instead.
    '[fernet_receipts]',
    `key_repository = ${p.fernetKeys}`,
    '',
    '[credential]',
    `key_repository = ${p.credentialKeys}`,
    '',
    '[identity]',
    `password_hash_algorithm = ${input.passwordHash.algorithm}`,
    `password_hash_rounds = ${input.passwordHash.rounds}`,
    // Tempest's domain configuration tests need domain-specific config stored in the database.
    'domain_specific_drivers_enabled = true',
    'domain_configurations_from_database = true',
    '',
    ...cache,
    '',
    '[oslo_policy]',
    `policy_file = ${p.policyFile}`,
    `policy_dirs = ${p.policyDir}`,
    '',
  ].join('\n');
}

/**
 * uwsgi ini for the peer. Debian's uwsgi-core only loads its HTTP router through the `http`
 * plugin, and `http-socket` with keep-alive resets connections on request bodies, so the
 * router (`http = ...`) fronts the workers. The router either drops idle keep-alive
 * connections under clients (tempest saw ~12 resets per run with http-keepalive) or, without
 * keep-alive, closes silently after each response; `Connection: close` tells clients so.
 */
export function uwsgiIni(input: KeystoneConfInput): string {
  const p = keystonePaths(input.workdir);
  return [
    '[uwsgi]',
    'plugins = python3,http',
    `http = 127.0.0.1:${input.port}`,
    'master = true',
    `processes = ${input.processes ?? 2}`,
    'threads = 1',
    'add-header = Connection: close',
    'enable-threads = true',
    'lazy-apps = true',
    'need-app = true',
    'die-on-term = true',
    'no-orphans = true',
    'buffer-size = 65535',
    'listen = 100',
    `chdir = ${input.workdir}`,
    `env = OS_KEYSTONE_CONFIG_FILES=${p.conf}`,
    `pythonpath = ${input.workdir}`,
    'import = peer_sqlite_shim',
    'wsgi-file = /usr/bin/keystone-wsgi-public',
    'log-date = true',
    '',
  ].join('\n');
}

/**
 * Python module each uwsgi worker imports before /usr/bin/keystone-wsgi-public loads. oslo.db
 * opens SQLite transactions with a deferred BEGIN, so two worker processes that read and
 * then write conflict and SQLite fails one at once with "database is locked"; Keystone lets
 * that escape as a 500 with no body (MySQL/PostgreSQL deployments would wait on row locks).
 * The shim wraps the public WSGI app: requests that write (POST/PUT/PATCH/DELETE, except
 * POST /v3/auth/tokens, which only reads) take a workdir file lock so writers never overlap,
 * while reads and token issue stay concurrent; a request that still hits the lock error is
 * replayed with its buffered body, but only while it has committed no write (a replay never
 * repeats a create or delete). Keystone's own code is not changed.
 */
export function sqliteShimModule(): string {
  return `"""Nephos bench peer: replay a Keystone request that failed on a locked SQLite database."""
import fcntl
import io
import os
import random
import threading
import time

from sqlalchemy import event
from sqlalchemy.engine import Engine

import keystone.server.wsgi as _ks_wsgi

_ATTEMPTS = 8
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")
_original = _ks_wsgi.initialize_public_application
_LOCK_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "peer-write.lock")
_request = threading.local()


@event.listens_for(Engine, "before_cursor_execute")
def _note_write(conn, cursor, statement, parameters, context, executemany):
    if statement.lstrip().upper().startswith(_WRITES):
        conn.info["peer_wrote"] = True


@event.listens_for(Engine, "commit")
def _count_write_commit(conn):
    if conn.info.pop("peer_wrote", False):
        _request.committed_writes = getattr(_request, "committed_writes", 0) + 1


@event.listens_for(Engine, "rollback")
def _forget_write(conn):
    conn.info.pop("peer_wrote", None)


def _writes(environ):
    method = environ.get("REQUEST_METHOD", "GET")
    if method == "POST" and environ.get("PATH_INFO", "").rstrip("/").endswith("/auth/tokens"):
        return False
    return method in ("POST", "PUT", "PATCH", "DELETE")


def _retrying(app):
    def application(environ, start_response):
        if not _writes(environ):
            return _replaying(app, environ, start_response)
        with open(_LOCK_PATH, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                return _replaying(app, environ, start_response)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
    return application


def _replaying(app, environ, start_response):
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    for attempt in range(_ATTEMPTS):
        env = dict(environ)
        env["wsgi.input"] = io.BytesIO(body)
        _request.committed_writes = 0
        try:
            return app(env, start_response)
        except Exception as exc:  # noqa: BLE001 - only the lock error is retried
            locked = "database is locked" in str(exc)
            if not locked or _request.committed_writes or attempt == _ATTEMPTS - 1:
                raise
            time.sleep(random.uniform(0.02, 0.1) * (attempt + 1))


def initialize_public_application(*args, **kwargs):
    return _retrying(_original(*args, **kwargs))


_ks_wsgi.initialize_public_application = initialize_public_application
`;
}
