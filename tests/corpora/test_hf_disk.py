"""Hugging Face save_to_disk folders, read with pyarrow alone: splits, columns, bad rows, batch by batch."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

import s2t_explain.corpora.hf_disk as hf_disk
from corpora.helpers_corpora import EXAMPLES, clip, ramp, write_audio
from s2t_explain.corpora import BadLine, Utterance, detect_format, read_corpus
from s2t_explain.errors import AudioError, OptionError

HF = EXAMPLES / "hf"
AUDIO = pa.struct([("bytes", pa.binary()), ("path", pa.string())])


def write_dataset(folder: Path, columns: dict[str, pa.Array], batch_rows: int | None = None) -> Path:
    """A Dataset folder as ``save_to_disk`` lays it out: one Arrow IPC stream and the two JSON files."""
    folder.mkdir(parents=True)
    table = pa.table(columns)
    with pa.OSFile(str(folder / "data-00000-of-00001.arrow"), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as w:
        for batch in table.to_batches(max_chunksize=batch_rows):
            w.write_batch(batch)
    (folder / "state.json").write_text(json.dumps({"_data_files": [{"filename": "data-00000-of-00001.arrow"}],
                                                   "_split": None}))
    (folder / "dataset_info.json").write_text("{}")
    return folder


def test_example_datasetdict():
    corpus = read_corpus(HF)
    assert corpus.name == "hf-disk" and corpus.note is None  # one split: nothing to tell
    items = list(corpus)
    assert [u.id for u in items] == ["hf-0", "hf-1", "hf-2"]
    assert items[0].reference == "Please turn off the lights when you leave the room."  # the "sentence" column
    assert [u.audio for u in items] == [Path("en_09.flac"), Path("en_17.flac"), Path("en_16.flac")]
    for item, clip_id in zip(items, ("en_09", "en_17", "en_16")):
        assert item.data is not None and np.array_equal(item.load(), clip("eval", clip_id))


def test_splits(tmp_path):
    shutil.copytree(HF / "test", tmp_path / "dd" / "train")
    shutil.copytree(HF / "test", tmp_path / "dd" / "test")
    (tmp_path / "dd" / "dataset_dict.json").write_text('{"splits": ["train", "test"]}')
    corpus = read_corpus(tmp_path / "dd")
    assert "has splits train, test: reading 'train'" in corpus.note and len(list(corpus)) == 3
    assert [u.id for u in read_corpus(tmp_path / "dd", split="test")] == ["hf-0", "hf-1", "hf-2"]
    with pytest.raises(OptionError, match="has no split 'dev'; its splits: train, test"):
        read_corpus(tmp_path / "dd", split="dev")
    # a split's folder is a Dataset of its own
    assert detect_format(HF / "test") == "hf-disk" and len(list(read_corpus(HF / "test"))) == 3
    with pytest.raises(OptionError, match="holds one dataset, not a DatasetDict"):
        read_corpus(HF / "test", split="train")
    with pytest.raises(OptionError, match="no option split"):
        read_corpus(EXAMPLES / "csv" / "manifest.csv", split="train")


def test_columns_and_bad_rows(tmp_path):
    good = write_audio(tmp_path / "a.flac", ramp(0.5)).read_bytes()
    audio = pa.array([{"bytes": good, "path": "a.flac"}, {"bytes": b"garbage", "path": None}, None,
                      {"bytes": None, "path": "a.flac"}, {"bytes": None, "path": None}], type=AUDIO)
    folder = write_dataset(tmp_path / "ds", {"speech": audio, "transcription": ["one", "two", "three", "four", "5"],
                                             "words": ["w"] * 5, "n": list(range(5))})
    items = list(read_corpus(folder))  # no id column: row ids; "speech" is the only Audio-shaped column
    assert [u.id for u in items] == ["row-0", "row-1", "row-2", "row-3", "row-4"]
    assert items[0].reference == "one" and items[0].audio == Path("a.flac") and items[0].data == good
    with pytest.raises(AudioError, match="cannot read audio the embedded audio of row-1"):
        items[1].load()
    assert items[2] == BadLine("row-2", 3, "row 2 has no audio (neither bytes nor a path)")
    assert items[3] == Utterance("row-3", folder / "a.flac", "four")  # no bytes: a path beside the dataset
    assert isinstance(items[4], BadLine)
    assert next(read_corpus(folder, text_column="words")).reference == "w"
    with pytest.raises(OptionError, match="has no column 'sentence' \\(text_column\\); its columns: speech"):
        read_corpus(folder, text_column="sentence")
    with pytest.raises(OptionError, match="column 'n' of .* holds int64, not audio"):
        read_corpus(folder, audio_column="n")
    assert next(read_corpus(folder, audio_column="words")).audio == folder / "w"  # a column of paths


def test_no_text_column_is_told(tmp_path):
    audio = pa.array([{"bytes": b"x", "path": "x.wav"}], type=AUDIO)
    folder = write_dataset(tmp_path / "ds", {"audio": audio, "id": ["u/1"]})
    corpus = read_corpus(folder)
    assert "no text column" in corpus.note
    (item,) = corpus
    assert item == BadLine("_row-0", 1, "row 0: bad or missing id 'u/1' (letters, digits, . _ - ; at most 128)")


def test_rows_come_batch_by_batch(tmp_path, monkeypatch):
    n = 2000
    audio = pa.array([{"bytes": b"%d" % k, "path": f"{k}.wav"} for k in range(n)], type=AUDIO)
    folder = write_dataset(tmp_path / "big", {"audio": audio, "text": [f"t{k}" for k in range(n)]}, batch_rows=100)
    batches = []
    real = hf_disk._batches

    def counting(file):
        for batch in real(file):
            batches.append(batch.num_rows)
            yield batch

    monkeypatch.setattr(hf_disk, "_batches", counting)
    corpus = read_corpus(folder)
    assert next(corpus).id == "row-0" and batches == [100]  # one record batch of twenty read
    assert sum(1 for _ in corpus) == n - 1 and len(batches) == 20


def test_datasets_is_not_needed():
    code = ("import sys; from s2t_explain.corpora import read_corpus; "
            f"assert len(list(read_corpus({str(HF)!r}))) == 3; assert 'datasets' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
