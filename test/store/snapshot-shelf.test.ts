import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { FileSnapshotShelf, openSqliteStore, type SnapshotShelf, type SqliteStore } from '../../src/store/index.js';
import { removeTestDir } from '../helpers/server.js';

const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);

describe('attribution snapshots on the SQLite store', () => {
  let dir: string;
  let store: SqliteStore;
  const open = () => openSqliteStore({ file: path.join(dir, 'closeloop.db'), commit: { maxWaitMs: 0, maxRows: 1000, maxPending: 100 }, quarantineMaxPerWorkspace: 100, now: T0 });
  const shelfDir = () => path.join(dir, 'attribution-snapshots');
  const files = () => (fs.existsSync(shelfDir()) ? fs.readdirSync(shelfDir()) : []);
  /** The whole of a workspace's snapshot, read through the shelf (null: none), as text. */
  const text = async (shelf: SnapshotShelf, ws: string): Promise<string | null> => {
    const file = await shelf.get(ws);
    if (file === null) return null;
    try {
      const bytes = new Uint8Array(file.size);
      await file.read(bytes, 0);
      return Buffer.from(bytes).toString('latin1');
    } finally {
      await file.close();
    }
  };

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'closeloop-store-test-'));
    store = open();
  });
  afterEach(async () => {
    await store.close();
    removeTestDir(dir);
  });

  it('gives back what was put, per workspace, in a folder beside the database, read in the pieces asked for', async () => {
    const shelf = store.attribution.snapshots!;
    assert.equal(await shelf.get('acme'), null);
    await shelf.put('acme', [Buffer.from('hello '), new Uint8Array(new Float64Array([1.5, -2]).buffer)]);
    await shelf.put('globex', [Buffer.from('other')]);
    const file = (await shelf.get('acme'))!;
    try {
      assert.equal(file.size, 6 + 16);
      const numbers = new Float64Array(2);
      await file.read(new Uint8Array(numbers.buffer), 6);
      assert.deepEqual([...numbers], [1.5, -2]);
      const word = Buffer.alloc(5);
      await file.read(word, 0);
      assert.equal(word.toString(), 'hello');
      await assert.rejects(file.read(new Uint8Array(4), 20), /ends before the bytes asked for/);
    } finally {
      await file.close();
    }
    assert.equal(await text(shelf, 'globex'), 'other');
    assert.equal(files().length, 2, 'one file per workspace');
    await shelf.put('acme', [Buffer.from('replaced')]);
    assert.equal(await text(shelf, 'acme'), 'replaced');
    assert.equal(files().length, 2, 'a put replaces the workspace\'s file');
  });

  it('keeps them across a reopen', async () => {
    await store.attribution.snapshots!.put('acme', [Buffer.from('kept')]);
    await store.close();
    store = open();
    assert.equal(await text(store.attribution.snapshots!, 'acme'), 'kept');
  });

  it('reads no file the database does not vouch for: one from another state of the database, a damaged one, a missing one', async () => {
    const shelf = store.attribution.snapshots!;
    await shelf.put('acme', [Buffer.from('first')]);
    const [name] = files();
    const first = fs.readFileSync(path.join(shelfDir(), name!));
    await shelf.put('acme', [Buffer.from('second')]);
    // The database vouches for the second; the first is what a database restored from an older backup would find.
    fs.writeFileSync(path.join(shelfDir(), name!), first);
    assert.equal(await shelf.get('acme'), null, 'a file whose token the database does not hold');
    await shelf.put('acme', [Buffer.from('third')]);
    const file = path.join(shelfDir(), name!);
    fs.writeFileSync(file, Buffer.from('garbage'));
    assert.equal(await shelf.get('acme'), null, 'a file that is not a snapshot');
    fs.rmSync(shelfDir(), { recursive: true });
    assert.equal(await shelf.get('acme'), null, 'the folder deleted');
  });

  it('clears what a put that died left behind, and never reads it; leaves one still being written', async () => {
    const shelf = store.attribution.snapshots!;
    await shelf.put('acme', [Buffer.from('whole')]);
    const [name] = files();
    const dead = path.join(shelfDir(), `${name}.0000-dead.tmp`);
    const writing = path.join(shelfDir(), `${name}.0000-writing.tmp`);
    fs.writeFileSync(dead, Buffer.from('half'));
    const hourAgo = new Date(Date.now() - 3_600_000); // file times are the wall clock's, not the service's
    fs.utimesSync(dead, hourAgo, hourAgo);
    fs.writeFileSync(writing, Buffer.from('being written by another process'));
    assert.equal(await text(shelf, 'acme'), 'whole');
    await shelf.put('acme', [Buffer.from('next')]);
    assert.deepEqual(files().sort(), [name, path.basename(writing)], 'the dead one is gone, the fresh one left');
    assert.equal(await text(shelf, 'acme'), 'next');
  });

  it('writes none that would leave the disk short of room, and keeps the one it had', async () => {
    await store.attribution.snapshots!.put('acme', [Buffer.from('kept')]);
    const { bavail, bsize } = fs.statfsSync(dir);
    const cramped = new FileSnapshotShelf(shelfDir(), store.meta, bavail * bsize); // as if all but the snapshot's room were needed
    await assert.rejects(cramped.put('acme', [Buffer.from('too big')]), /Not enough free disk space for a 0 MB attribution snapshot/);
    assert.equal(await text(cramped, 'acme'), 'kept');
    assert.equal(files().length, 1, 'nothing half-written left behind');
  });

  it('has none for a database in memory', async () => {
    const memory = openSqliteStore({ file: ':memory:', commit: { maxWaitMs: 0, maxRows: 10, maxPending: 10 }, quarantineMaxPerWorkspace: 10, now: T0 });
    try {
      assert.equal(memory.attribution.snapshots, null);
    } finally {
      await memory.close();
    }
  });
});
