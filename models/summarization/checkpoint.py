"""Seq2seq checkpoint folders: what makes one complete, its fingerprint, and importing one.

A checkpoint is complete when it has ``config.json`` naming a supported encoder-decoder
family, its weights (all shards of a sharded checkpoint) and a tokenizer. Importing copies
a folder, or safely extracts a ``.tar``/``.tar.gz``/``.tgz``/``.zip`` archive, checks it,
and installs it as ``models_dir/<folder name>``, written beside and renamed into place.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import stat
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from models.embeddings import weights_fingerprint
from models.errors import ModelNotAvailableError

#: ``config.json`` ``model_type`` values of the encoder-decoder families vnqa serves.
SEQ2SEQ_FAMILIES = {"t5": "t5", "mt5": "t5", "bart": "bart", "mbart": "bart"}
# Any one of these is a usable tokenizer (fast, SentencePiece or BPE vocabulary files).
_TOKENIZER_FILES = ("tokenizer.json", "spiece.model", "sentencepiece.bpe.model", "vocab.json")
_TOKENIZER_EXTRAS = (
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "merges.txt",
    "dict.txt",
    "generation_config.json",
)
_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
_SHARD_INDEXES = ("model.safetensors.index.json", "pytorch_model.bin.index.json")
ARCHIVE_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".zip")
#: Uncompressed size above which an archive is refused (a mT5-xl checkpoint is ~15 GB).
MAX_ARCHIVE_BYTES = 40 * 1024**3


class IncompleteCheckpointError(ModelNotAvailableError):
    """A folder or archive that is not a complete seq2seq checkpoint; the message says why."""


@dataclass(frozen=True)
class CheckpointInfo:
    """A checked checkpoint folder: its ``model_type`` and backend family (t5 or bart)."""

    folder: Path
    model_type: str
    family: str

    @property
    def name(self) -> str:
        """The folder's name: what ``VNQA_SUMMARIZER_MODEL`` selects it by."""
        return self.folder.name


def inspect_checkpoint(folder: Path) -> CheckpointInfo:
    """Check that ``folder`` is a complete seq2seq checkpoint.

    Raises :class:`IncompleteCheckpointError` naming everything missing: the config (or a
    model type vnqa does not serve), the weights (or the shards an index lists), the
    tokenizer.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise IncompleteCheckpointError(f"{folder} is not a folder")
    problems: list[str] = []
    model_type = ""
    config_path = folder / "config.json"
    if not config_path.is_file():
        problems.append("config.json (the model configuration)")
    else:
        try:
            model_type = str(json.loads(config_path.read_text(encoding="utf-8"))["model_type"])
        except (OSError, ValueError, KeyError, TypeError):
            problems.append("a readable config.json with a model_type")
        else:
            if model_type not in SEQ2SEQ_FAMILIES:
                problems.append(
                    f"a seq2seq model type (config.json says {model_type!r}; "
                    f"supported: {', '.join(sorted(SEQ2SEQ_FAMILIES))})"
                )
    problems += _weight_problems(folder)
    if not any((folder / name).is_file() for name in _TOKENIZER_FILES):
        problems.append(f"a tokenizer (one of {', '.join(_TOKENIZER_FILES)})")
    if problems:
        raise IncompleteCheckpointError(
            f"{folder} is not a complete seq2seq checkpoint; missing: " + "; ".join(problems)
        )
    return CheckpointInfo(folder=folder, model_type=model_type, family=SEQ2SEQ_FAMILIES[model_type])


def _weight_problems(folder: Path) -> list[str]:
    if any((folder / name).is_file() for name in _WEIGHT_FILES):
        return []
    for index_name in _SHARD_INDEXES:
        index = folder / index_name
        if index.is_file():
            try:
                shards = set(json.loads(index.read_text(encoding="utf-8"))["weight_map"].values())
            except (OSError, ValueError, KeyError, TypeError, AttributeError):
                return [f"a readable {index_name}"]
            missing = sorted(s for s in shards if not (folder / s).is_file())
            return [f"weight shards {', '.join(missing)}"] if missing else []
    return [f"weights ({' or '.join(_WEIGHT_FILES)}, or a sharded index)"]


def checkpoint_fingerprint(folder: Path) -> str:
    """Short hex digest of what generation depends on: weights, config and tokenizer files.

    The weights' digests are cached beside them (see ``weights_fingerprint``), so only the
    first call reads the weights; a changed file gives a new fingerprint.
    """
    folder = Path(folder)
    digest = hashlib.sha256(weights_fingerprint(folder).encode())
    for name in sorted(("config.json", *_TOKENIZER_FILES, *_TOKENIZER_EXTRAS)):
        path = folder / name
        if path.is_file():
            digest.update(f"\n{name}:".encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


# -- import ---------------------------------------------------------------------------


def import_checkpoint(source: Path, models_dir: Path, *, replace: bool = False) -> CheckpointInfo:
    """Install the checkpoint folder or archive ``source`` as ``models_dir/<name>``.

    The name is the folder's (for an archive: its single top-level folder, else the
    archive's name without suffix). Archives are extracted into a scratch folder under
    ``models_dir`` after every member is checked: no absolute paths, no ``..``, no links
    or device files, bounded total size. The copy is checked with
    :func:`inspect_checkpoint` before it is renamed into place; nothing is left behind
    on failure. An installed folder of the same name is replaced only with ``replace``.
    """
    source = Path(source).expanduser()
    models_dir = Path(models_dir).expanduser()
    if not source.exists():
        raise IncompleteCheckpointError(f"{source} does not exist")
    models_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".import-", dir=models_dir))
    try:
        if source.is_dir():
            inspect_checkpoint(source)  # fail before copying gigabytes
            name = source.resolve().name
            staged = work / name
            shutil.copytree(source, staged, symlinks=False)
        elif source.name.lower().endswith(ARCHIVE_SUFFIXES):
            extracted = work / "extracted"
            extract_archive(source, extracted)
            staged = _checkpoint_root(extracted, _archive_stem(source))
        else:
            raise IncompleteCheckpointError(
                f"{source} is neither a folder nor an archive ({', '.join(ARCHIVE_SUFFIXES)})"
            )
        info = inspect_checkpoint(staged)
        dest = models_dir / staged.name
        if dest.exists():
            if not replace:
                raise FileExistsError(f"{dest} already exists; pass --replace to install over it")
            shutil.rmtree(dest)
        staged.rename(dest)
        return CheckpointInfo(folder=dest, model_type=info.model_type, family=info.family)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _archive_stem(path: Path) -> str:
    name = path.name
    for suffix in sorted(ARCHIVE_SUFFIXES, key=len, reverse=True):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def _checkpoint_root(extracted: Path, fallback_name: str) -> Path:
    """The checkpoint folder inside an extracted archive: its root or single top folder."""
    if (extracted / "config.json").is_file():
        named = extracted.parent / fallback_name
        extracted.rename(named)
        return named
    children = [p for p in extracted.iterdir() if not p.name.startswith(".")]
    if len(children) == 1 and children[0].is_dir():
        return children[0]
    raise IncompleteCheckpointError(
        "the archive holds neither config.json at its root nor a single checkpoint folder "
        f"(found: {', '.join(sorted(p.name for p in children)) or 'nothing'})"
    )


def _safe_member_path(name: str) -> PurePosixPath:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or (path.parts and ":" in path.parts[0]):
        raise IncompleteCheckpointError(f"archive member {name!r} points outside the archive")
    return path


def extract_archive(archive: Path, dest: Path) -> None:
    """Extract a ``.tar``/``.tar.gz``/``.zip`` into ``dest`` after checking every member.

    Refuses absolute or ``..`` paths, links and special files, and archives whose
    members add up to more than :data:`MAX_ARCHIVE_BYTES`.
    """
    dest.mkdir(parents=True, exist_ok=True)
    total = 0
    if archive.name.lower().endswith(".zip"):
        try:
            zf = zipfile.ZipFile(archive)
        except zipfile.BadZipFile as exc:
            raise IncompleteCheckpointError(f"{archive} is not a readable zip: {exc}") from exc
        with zf:
            for info in zf.infolist():
                _safe_member_path(info.filename)
                if stat.S_ISLNK(info.external_attr >> 16):
                    raise IncompleteCheckpointError(f"archive member {info.filename!r} is a link")
                total += info.file_size
                if total > MAX_ARCHIVE_BYTES:
                    raise IncompleteCheckpointError(f"{archive} unpacks to more than allowed")
            zf.extractall(dest)
        return
    try:
        tf = tarfile.open(archive)
    except (tarfile.TarError, OSError) as exc:
        raise IncompleteCheckpointError(f"{archive} is not a readable tar: {exc}") from exc
    with tf:
        members = tf.getmembers()
        for member in members:
            _safe_member_path(member.name)
            if not (member.isfile() or member.isdir()):
                raise IncompleteCheckpointError(
                    f"archive member {member.name!r} is a link or special file"
                )
            total += member.size
            if total > MAX_ARCHIVE_BYTES:
                raise IncompleteCheckpointError(f"{archive} unpacks to more than allowed")
        tf.extractall(dest, members=members, filter="data")
