"""Parquet, read in record batches (bounded memory); values keep their types, list cells stay lists."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from synpunkt.readers.common import TableChunk, TableReadError, TableStream, clean_headers, make_frame


def read_parquet(path: Path, *, chunk_rows: int) -> TableStream:
    """Open a Parquet file (errors raised now); its rows follow in chunks of `chunk_rows`."""
    try:
        source = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow's ArrowInvalid, OSError, ...
        raise TableReadError(f"{path}: not a valid Parquet file ({type(exc).__name__})") from None
    columns = clean_headers(source.schema_arrow.names)
    return TableStream(_chunks(source, path, columns, chunk_rows), {})


def _chunks(source: pq.ParquetFile, path: Path, columns: list[str], chunk_rows: int) -> Iterator[TableChunk]:
    start = 1
    try:
        for batch in source.iter_batches(batch_size=chunk_rows):
            # via Python objects so that list cells are lists, not arrays
            frame = pd.DataFrame(dict(zip(columns, (column.to_pylist() for column in batch.columns))), columns=columns)
            frame.index = pd.RangeIndex(start, start + len(frame)).astype("int64")
            start += len(frame)
            yield TableChunk(frame)
    except Exception as exc:
        raise TableReadError(f"{path}: not a valid Parquet file ({type(exc).__name__})") from None
    finally:
        source.close()
    if start == 1:
        yield TableChunk(make_frame([], [], columns))
