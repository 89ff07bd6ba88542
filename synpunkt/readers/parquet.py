"""Parquet, read in record batches (bounded memory); values keep their types, list cells stay lists, and every
column is of object dtype holding the Python values pyarrow gives: an int64 column with a null stays whole
numbers (pandas would make it float64: 101 -> 101.0, and a 17-digit id would lose digits)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
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


def batch_frame(batch: pa.RecordBatch, columns: list[str], start: int) -> pd.DataFrame:
    """A record batch as a frame of exact Python values (rows numbered from `start`): via Python objects so that
    list cells are lists, not arrays, and ints with nulls are not made floats."""
    index = pd.Index(range(start, start + batch.num_rows), dtype="int64")
    return pd.DataFrame({name: pd.Series(column.to_pylist(), index=index, dtype=object)
                         for name, column in zip(columns, batch.columns)}, index=index, columns=columns)


def _chunks(source: pq.ParquetFile, path: Path, columns: list[str], chunk_rows: int) -> Iterator[TableChunk]:
    start = 1
    try:
        for batch in source.iter_batches(batch_size=chunk_rows):
            frame = batch_frame(batch, columns, start)
            start += len(frame)
            yield TableChunk(frame)
    except Exception as exc:
        raise TableReadError(f"{path}: not a valid Parquet file ({type(exc).__name__})") from None
    finally:
        source.close()
    if start == 1:
        yield TableChunk(make_frame([], [], columns))
