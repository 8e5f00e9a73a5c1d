#!/usr/bin/env node
// PouchDB 9's own replicator, run by tests and benchmarks as the peer implementation.
//
//   node ops/pouchdb/replicate.js SOURCE TARGET [--batch-size N] [--load FILE] [--dump] [--setup]
//
// SOURCE and TARGET are an http(s) database URL (credentials in the URL) or
// "memory:NAME" (pouchdb-adapter-memory) or "leveldb:DIR" (PouchDB's default
// node adapter). --load FILE fills the SOURCE first from a JSON array of docs
// carrying _revisions (written with new_edits=false, so conflicts are kept);
// --dump prints, after the run, every doc's leaves (open_revs=all, revs=true)
// of the local side, for the caller to compare revision trees. The last line
// on stdout is one JSON object: ok, docs_read, docs_written, doc_write_failures,
// seconds, requests (HTTP requests PouchDB sent), dump (when asked).
'use strict';

const PouchDB = require('pouchdb');
PouchDB.plugin(require('pouchdb-adapter-memory'));
const fs = require('fs');

function parseArgs(argv) {
  const out = { positional: [], batchSize: 100, load: null, dump: false, batchesLimit: 10, setup: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--batch-size') out.batchSize = parseInt(argv[++i], 10);
    else if (a === '--load') out.load = argv[++i];
    else if (a === '--dump') out.dump = true;
    else if (a === '--setup') out.setup = true;
    else out.positional.push(a);
  }
  if (out.positional.length !== 2) {
    console.error('usage: replicate.js SOURCE TARGET [--batch-size N] [--load FILE] [--dump] [--setup]');
    process.exit(2);
  }
  return out;
}

const counter = { requests: 0 };

function open(location, setup) {
  if (/^https?:\/\//.test(location)) {
    const url = new URL(location);
    const auth = url.username ? { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) } : undefined;
    url.username = ''; url.password = '';
    return new PouchDB(url.toString().replace(/\/$/, ''), {
      auth,
      skip_setup: !setup,  // --setup: as `new PouchDB(url)` does (GET /db/, PUT if missing)
      fetch: (u, opts) => { counter.requests++; return PouchDB.fetch(u, opts); },
    });
  }
  if (location.startsWith('memory:')) return new PouchDB(location.slice(7), { adapter: 'memory' });
  if (location.startsWith('leveldb:')) return new PouchDB(location.slice(8));
  throw new Error('unknown location ' + location);
}

async function dumpTrees(db) {
  const ids = new Set();
  let since = 0;
  for (;;) {
    const res = await db.changes({ since, limit: 1000, style: 'all_docs' });
    res.results.forEach((r) => ids.add(r.id));
    if (res.results.length < 1000) break;
    since = res.last_seq;
  }
  const out = {};
  for (const id of [...ids].sort()) {
    out[id] = await db.get(id, { open_revs: 'all', revs: true });
  }
  return out;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const [srcLoc, tgtLoc] = args.positional;
  const source = open(srcLoc, args.setup);
  const target = open(tgtLoc, args.setup);
  if (args.load) {
    const docs = JSON.parse(fs.readFileSync(args.load, 'utf8'));
    for (let i = 0; i < docs.length; i += 500) {
      await source.bulkDocs(docs.slice(i, i + 500), { new_edits: false });
    }
  }
  counter.requests = 0;
  const started = process.hrtime.bigint();
  const result = await PouchDB.replicate(source, target, { batch_size: args.batchSize, batches_limit: args.batchesLimit });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const summary = {
    ok: result.ok,
    docs_read: result.docs_read,
    docs_written: result.docs_written,
    doc_write_failures: result.doc_write_failures,
    errors: (result.errors || []).map(String),
    seconds,
    requests: counter.requests,
    last_seq: result.last_seq,
  };
  if (args.dump) {
    const local = /^https?:/.test(srcLoc) ? target : source;
    summary.dump = await dumpTrees(local);
  }
  process.stdout.write(JSON.stringify(summary) + '\n');
}

main().catch((err) => {
  process.stdout.write(JSON.stringify({ ok: false, error: String(err && (err.stack || err)) }) + '\n');
  process.exit(1);
});
