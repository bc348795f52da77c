// Embedded PGlite has no server to arbitrate between processes: two Payrails on one data
// directory would corrupt it. A pid file with an exclusive create keeps it to one.
import fs from 'node:fs';
import path from 'node:path';

export class DataDirectoryInUseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataDirectoryInUseError';
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function acquireDataDirectoryLock(dataDirectory: string): () => void {
  fs.mkdirSync(dataDirectory, { recursive: true });
  const lockFile = path.join(dataDirectory, 'payrail.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
      return () => fs.rmSync(lockFile, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(fs.readFileSync(lockFile, 'utf8'));
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && processAlive(owner)) {
        throw new DataDirectoryInUseError(
          `the data directory ${dataDirectory} is in use by process ${owner}; stop it or set PAYRAIL_DATA_DIR to another directory`,
        );
      }
      // A stale lock left by a process that died: take it over.
      fs.rmSync(lockFile, { force: true });
    }
  }
  throw new Error(`could not lock the data directory ${dataDirectory}`);
}
