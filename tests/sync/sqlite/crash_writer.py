"""A writer process for the kill -9 tests: prints each acknowledged write.

``python -m tests.sync.sqlite.crash_writer PATH BATCH`` writes batches of BATCH
docs (ids ``b<batch>-<n>``) forever and prints ``<batch> <rev of first doc>``
after each ``bulk_docs`` returns, so the parent knows what was acknowledged.
"""

from __future__ import annotations

import sys

from sync.sqlite import SQLiteStore


def main() -> None:
    path, size = sys.argv[1], int(sys.argv[2])
    store = SQLiteStore(path)
    batch = 0
    while True:
        docs = [{"_id": f"b{batch:06d}-{n:04d}", "batch": batch, "pad": "x" * 200}
                for n in range(size)]
        result = store.bulk_docs(docs)
        sys.stdout.write(f"{batch} {result[0]['rev']}\n")
        sys.stdout.flush()
        batch += 1


if __name__ == "__main__":
    main()
