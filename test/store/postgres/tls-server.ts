// A throwaway PostgreSQL server that speaks TLS, for the TLS tests: a fresh CA and a server certificate for
// localhost and 127.0.0.1 (openssl), a data directory made by initdb, and a postmaster on a free loopback port
// whose pg_hba.conf accepts TCP connections only over TLS (hostssl). Everything lives in one temporary
// directory that stop() removes with the server.
import { execFileSync, spawnSync } from 'node:child_process'
import { appendFileSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { which } from '../../../dev/tools.ts'

/**
 * The folder of PostgreSQL's server binaries: initdb's on the PATH (Homebrew's, or a distribution's that puts it
 * there), else `pg_config --bindir`, else the newest of Debian's /usr/lib/postgresql/<major>/bin.
 */
function serverBinaries(): string {
  const onPath = which('initdb')
  if (onPath !== undefined) return dirname(onPath)
  const config = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' })
  const fromConfig = config.status === 0 ? config.stdout.trim() : ''
  if (fromConfig !== '' && existsSync(join(fromConfig, 'initdb'))) return fromConfig
  const debian = '/usr/lib/postgresql'
  const majors = existsSync(debian) ? readdirSync(debian).filter(v => /^\d+$/.test(v)) : []
  const newest = majors.sort((a, b) => Number(b) - Number(a))[0]
  return newest === undefined ? join(debian, 'VERSION', 'bin') : join(debian, newest, 'bin')
}

const bin = serverBinaries()
/** The OS user initdb and postgres run as when this process is root (both refuse to run as root). */
const serverUser = 'postgres'

export interface TlsPostgres {
  readonly port: number
  /** The CA that signed the server's certificate. */
  readonly caFile: string
  /** A CA that signed nothing this server shows. */
  readonly otherCaFile: string
  /** A postgres:// URL of the database `pipeline` on this server (created by the store on first use), with `params` as its query. */
  url(params: Record<string, string>): string
  stop(): void
}

const asRoot = process.getuid?.() === 0

/** Why the TLS server cannot be started on this machine, or undefined when it can. */
export function tlsPostgresUnavailable(): string | undefined {
  for (const tool of ['initdb', 'pg_ctl', 'postgres']) {
    if (!existsSync(join(bin, tool))) {
      return `no PostgreSQL server binaries (${join(bin, tool)} is missing; initdb on the PATH is used first)`
    }
  }
  if (spawnSync('openssl', ['version']).status !== 0) return 'no openssl command'
  if (asRoot && spawnSync('runuser', ['-u', serverUser, '--', 'true']).status !== 0) {
    return `running as root, and initdb cannot run as the ${serverUser} OS user (runuser -u ${serverUser} failed)`
  }
  return undefined
}

/** Runs a PostgreSQL binary as the server's user; throws with its output when it fails. */
function server(tool: string, args: string[]): void {
  const [command, all] = asRoot
    ? ['runuser', ['-u', serverUser, '--', join(bin, tool), ...args]]
    : [join(bin, tool), args]
  execFileSync(command, all, { stdio: 'pipe', timeout: 30_000 })
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe', timeout: 10_000 })
}

const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']

function makeCertificates(dir: string): void {
  openssl(dir, [
    'req',
    '-x509',
    ...ecKey,
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '1',
    '-subj',
    '/CN=ep-test-ca',
  ])
  openssl(dir, [
    'req',
    '-x509',
    ...ecKey,
    '-keyout',
    'other.key',
    '-out',
    'other.pem',
    '-days',
    '1',
    '-subj',
    '/CN=ep-other-ca',
  ])
  openssl(dir, ['req', '-new', ...ecKey, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost'])
  writeFileSync(
    join(dir, 'server.ext'),
    'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n',
  )
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    'server.ext',
    '-out',
    'server.crt',
  ])
}

async function freePort(): Promise<number> {
  const probe = createServer()
  await new Promise<void>((resolve, reject) => probe.once('error', reject).listen(0, '127.0.0.1', resolve))
  const { port } = probe.address() as { port: number }
  await new Promise(resolve => probe.close(resolve))
  return port
}

/** Starts the server; on any failure on the way, stops what was started and removes the directory. */
export async function startTlsPostgres(): Promise<TlsPostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'ep-pg-tls-'))
  const data = join(dir, 'data')
  let started = false
  const stop = () => {
    if (started) {
      try {
        server('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop'])
      } catch {
        // Already gone: nothing to stop.
      }
      started = false
    }
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    makeCertificates(dir)
    // The server reads its key only when its own user owns it and no one else may read it.
    if (asRoot) execFileSync('chown', ['-R', `${serverUser}:`, dir])
    server('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8'])
    const port = await freePort()
    appendFileSync(
      join(data, 'postgresql.conf'),
      [
        // 127.0.0.2 too, a loopback address the certificate does not name.
        "listen_addresses = '127.0.0.1,127.0.0.2'",
        `port = ${port}`,
        `unix_socket_directories = '${dir}'`,
        'ssl = on',
        `ssl_cert_file = '${join(dir, 'server.crt')}'`,
        `ssl_key_file = '${join(dir, 'server.key')}'`,
        'fsync = off',
        '',
      ].join('\n'),
    )
    // TCP only over TLS: a client with sslmode=disable finds no line that lets it in.
    writeFileSync(join(data, 'pg_hba.conf'), 'local all all trust\nhostssl all all 127.0.0.1/32 trust\n')
    started = true
    server('pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '20', 'start'])
    return {
      port,
      caFile: join(dir, 'ca.pem'),
      otherCaFile: join(dir, 'other.pem'),
      url: params => `postgres://postgres@127.0.0.1:${port}/pipeline?${new URLSearchParams(params)}`,
      stop,
    }
  } catch (error) {
    stop()
    throw error
  }
}
