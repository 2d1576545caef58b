"""Write and read time of the server-side store: the disk (diskcache) against Redis.

The PreparedData and a k=4 Segmentation of a real export are written to and
read back from each backend (the store's cache itself, so the in-process memory
layer is not in the way), several times; the script prints the median time of
each and the pickled size.

Run from the repo root with a Redis on loopback::

    redis-server --port 16399 --save "" --appendonly no &
    PYTHONPATH=. .venv/bin/python benchmarks/store_redis.py \
        --redis redis://127.0.0.1:16399/0 --repeat 5 \
        [--file /work/shared/data/online_retail_I.csv]
"""

from __future__ import annotations

import argparse
import pickle
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import segmentation
from app import storage, store_redis

DEFAULT_FILE = Path("/work/shared/data/online_retail_II_sample.xlsx")


def _median_ms(action, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main() -> None:
    """Print the median write and read times of each backend."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis", required=True, help="a Redis URL on loopback")
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    data = args.file.read_bytes()
    prepared = segmentation.prepare(data, filename=args.file.name)
    segmented = segmentation.segment(prepared, 4)
    values = {"prepared": prepared, "segmentation k=4": segmented}
    limit = 4 * 1024**3
    with tempfile.TemporaryDirectory() as folder:
        disk = storage.Store(Path(folder) / "store", size_limit=limit).cache
        namespace = f"bench:{uuid.uuid4().hex[:8]}:store:"
        redis = store_redis.RedisCache(args.redis, limit, namespace=namespace)
        print(f"{args.file.name}: {len(data):,} bytes, {args.repeat} runs each")
        print("| value | pickled bytes | backend | write ms | read ms |")
        print("| --- | --- | --- | --- | --- |")
        try:
            for name, value in values.items():
                size = len(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
                for backend, cache in (("diskcache", disk), ("Redis", redis)):
                    key = ("bench", name)
                    write = _median_ms(lambda: cache.set(key, value), args.repeat)
                    read = _median_ms(lambda: cache.get(key), args.repeat)
                    assert cache.get(key) is not None
                    row = [name, f"{size:,}", backend, f"{write:.1f}", f"{read:.1f}"]
                    print("| " + " | ".join(row) + " |")
        finally:
            redis.clear()
            disk.close()


if __name__ == "__main__":
    main()
