import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { MetaStore } from './store.js';

/** A snapshot open for reading: its bytes are read where the reader wants them, in the pieces it wants. */
export interface SnapshotFile {
  /** How many bytes it holds. */
  readonly size: number;
  /** Fills `into` with the bytes from `position` on; throws when the snapshot ends first. */
  read(into: Uint8Array, position: number): Promise<void>;
  close(): Promise<void>;
}

/** Keeps one snapshot (opaque bytes) per workspace for attribution runs to start from. */
export interface SnapshotShelf {
  /**
   * The snapshot last put for the workspace, open, if the store still vouches for it; null when
   * there is none, or only one that a put did not finish or that another state of the store left
   * (a database restored from a backup). Waits for a put of the workspace still being written here.
   */
  get(workspaceId: string): Promise<SnapshotFile | null>;
  /** Replaces the workspace's snapshot with the concatenation of `parts` (read as it is written: leave them be until it resolves). */
  put(workspaceId: string, parts: readonly Uint8Array[]): Promise<void>;
  /** Resolves once every put begun here is finished, written or failed. */
  settle(): Promise<void>;
}

const MAGIC = 'CLSNAP1\n';
/** The magic, the token (a UUID) and padding: the payload starts 8-byte aligned. */
const HEAD = 48;
/** A temporary file untouched for this long was left by a put that died (file times are the wall clock's). */
const STALE_TMP_MS = 10 * 60_000;
const tokenKey = (workspaceId: string) => `attribution-snapshot:${workspaceId}`;

/**
 * Snapshots as files in a folder beside the database, each vouched for by a token the store
 * keeps (meta): a put writes a new file under a temporary name, flushes it to disk, renames it
 * into place and only then records its token. So a file that a crash cut short, or one the
 * database does not know (one restored from an older backup, or a new one in the same folder), is never read;
 * and deleting the folder only makes the next runs read every event again.
 */
export class FileSnapshotShelf implements SnapshotShelf {
  /** Puts being written, per workspace. */
  readonly #writing = new Map<string, Promise<void>>();

  /** `minFree`: the free disk space a snapshot leaves at the least, besides its own size again (room for the next one). */
  constructor(private readonly dir: string, private readonly meta: MetaStore, private readonly minFree = 1 << 30) {}

  async settle(): Promise<void> {
    await Promise.all(this.#writing.values());
  }

  #file(workspaceId: string): string {
    return path.join(this.dir, `${createHash('sha256').update(workspaceId).digest('hex').slice(0, 32)}.snapshot`);
  }

  async get(workspaceId: string): Promise<SnapshotFile | null> {
    await this.#writing.get(workspaceId);
    const token = await this.meta.get(tokenKey(workspaceId));
    if (token === null) return null;
    let handle: fs.promises.FileHandle;
    try {
      handle = await fs.promises.open(this.#file(workspaceId), 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    // Held open, the file read is the one vouched for even if a put renames another over it meanwhile.
    const read = async (into: Uint8Array, position: number) => {
      for (let at = 0; at < into.byteLength;) {
        const { bytesRead } = await handle.read(into, at, into.byteLength - at, position + at);
        if (bytesRead === 0) throw new Error('The attribution snapshot ends before the bytes asked for.');
        at += bytesRead;
      }
    };
    try {
      const { size } = await handle.stat();
      const head = Buffer.alloc(HEAD);
      await read(head, 0);
      if (head.toString('latin1', 0, MAGIC.length) !== MAGIC || head.toString('latin1', MAGIC.length, MAGIC.length + token.length) !== token) throw new Error('not vouched for');
      return { size: size - HEAD, read: (into, position) => read(into, HEAD + position), close: () => handle.close() };
    } catch {
      await handle.close();
      return null;
    }
  }

  put(workspaceId: string, parts: readonly Uint8Array[]): Promise<void> {
    const previous = this.#writing.get(workspaceId) ?? Promise.resolve();
    const writing = previous.then(() => this.#put(workspaceId, parts));
    const done = writing.catch(() => {});
    this.#writing.set(workspaceId, done);
    void done.then(() => { if (this.#writing.get(workspaceId) === done) this.#writing.delete(workspaceId); });
    return writing;
  }

  async #put(workspaceId: string, parts: readonly Uint8Array[]): Promise<void> {
    const token = randomUUID();
    const file = this.#file(workspaceId);
    await fs.promises.mkdir(this.dir, { recursive: true });
    // A snapshot only saves time; the disk is for the events. Without room to spare, none is written.
    const size = parts.reduce((n, p) => n + p.byteLength, HEAD);
    const { bavail, bsize } = await fs.promises.statfs(this.dir);
    if (bavail * bsize < 2 * size + this.minFree) throw new Error(`Not enough free disk space for a ${Math.round(size / 2 ** 20)} MB attribution snapshot; the next run reads every event.`);
    // Left by a put that died. One still being written (another process's: the run that wrote it
    // has answered and let go of the workspace) was touched just now, and is left to finish.
    for (const name of await fs.promises.readdir(this.dir)) {
      if (!name.startsWith(`${path.basename(file)}.`) || !name.endsWith('.tmp')) continue;
      const stale = path.join(this.dir, name);
      const touched = await fs.promises.stat(stale).then((st) => st.mtimeMs, () => Number.POSITIVE_INFINITY);
      if (Date.now() - touched > STALE_TMP_MS) await fs.promises.rm(stale, { force: true });
    }
    const tmp = `${file}.${token}.tmp`;
    const head = Buffer.alloc(HEAD);
    head.write(MAGIC + token, 'latin1');
    try {
      const handle = await fs.promises.open(tmp, 'w');
      try {
        for (const part of [head, ...parts]) {
          for (let at = 0; at < part.byteLength;) at += (await handle.write(part, at, Math.min(part.byteLength - at, 1 << 30))).bytesWritten;
        }
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fs.promises.rename(tmp, file);
    } catch (err) {
      await fs.promises.rm(tmp, { force: true });
      throw err;
    }
    const dir = await fs.promises.open(this.dir, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
    await this.meta.set(tokenKey(workspaceId), token);
  }
}
