"""A local registry of trained model versions: folders, an index, lineage and promotion.

Both model kinds (ALIGNN bundles and chgnet-head folders, :mod:`hopscreen.models.kinds`)
are registered the same way.

Layout of a registry root::

    <root>/index.json            {"format": 1, "models": [ModelVersionDoc, ...]}
    <root>/<model_version>/      one model folder (model card + weights) per version

The index is rewritten atomically (temporary file + rename), so a crash never leaves a
half-written index. Concurrent writers are not coordinated: register and promote from one
process at a time.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import platformdirs

from hopscreen.data.download import sha256_file
from hopscreen.models.bundle import ModelLoadError
from hopscreen.models.kinds import AnyCard, member_files, read_card, verify_model
from hopscreen.models.shipped import default_model_dir, resolve_model_dir
from hopscreen.schemas.training import ModelVersionDoc
from hopscreen.settings import load_settings

INDEX_NAME = "index.json"
INDEX_FORMAT = 1


class UnknownModelError(LookupError):
    """No registered model has that version or name."""


def default_registry_root() -> Path:
    """The registry folder: the ``registry_dir`` site setting, else the per-user folder.

    The setting is ``$HOPSCREEN_REGISTRY_DIR`` or the settings file's (see
    :mod:`hopscreen.settings`); the per-user folder is
    ``platformdirs.user_data_dir("hopscreen")/models``.
    """
    configured = load_settings().registry_dir
    if configured is not None:
        return configured
    return Path(platformdirs.user_data_dir("hopscreen")) / "models"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def train_ids_hash(record_ids: list[str]) -> str:
    """sha256 over the sorted training record ids joined by newlines."""
    return hashlib.sha256("\n".join(sorted(record_ids)).encode()).hexdigest()


def split_test_metrics(metrics: dict[str, Any]) -> dict[str, Any]:
    """The test-split part of a card's metrics.

    Parameters
    ----------
    metrics
        ``ModelCard.metrics``: either nested by split (``{"test": {...}, "val": {...}}``) or
        flat with split-prefixed keys (``{"test_mae_ev": ...}``).

    Returns
    -------
    dict
        ``metrics["test"]`` when it is a mapping, else the keys that name the test split.

    """
    nested = metrics.get("test")
    if isinstance(nested, dict):
        return dict(nested)
    return {k: v for k, v in metrics.items() if "test" in k.lower()}


def entry_from_card(card: AnyCard, path: Path, **fields: Any) -> ModelVersionDoc:
    """A registry entry describing the model folder ``path`` with card ``card``."""
    return ModelVersionDoc(
        model_version=card.model_version,
        name=card.name,
        preset=card.preset,
        parent_version=card.parent_version,
        created_utc=card.created_utc,
        path=str(Path(path).resolve()),
        weights_sha256=[digest for _, digest in member_files(card)],
        n_train_records=len(card.train_record_ids),
        train_ids_sha256=train_ids_hash(card.train_record_ids),
        metrics=split_test_metrics(card.metrics),
        **fields,
    )


def _verify_checksums(model_dir: Path, card: AnyCard) -> None:
    for name, expected in member_files(card):
        path = model_dir / name
        if not path.exists() or sha256_file(path) != expected:
            raise ModelLoadError(f"{path} is missing or does not match its card after copying")


class ModelRegistry:
    """Model versions kept in a local folder, with lineage and one promoted version.

    Parameters
    ----------
    root
        Registry folder; default :func:`default_registry_root` (the per-user data folder).
        It is created on the first write.
    """

    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root) if root is not None else default_registry_root()

    def __repr__(self) -> str:
        return f"ModelRegistry({str(self.root)!r})"

    @property
    def index_path(self) -> Path:
        """Path of the index JSON."""
        return self.root / INDEX_NAME

    # -- index ---------------------------------------------------------------------------------
    def _read(self) -> list[ModelVersionDoc]:
        if not self.index_path.exists():
            return []
        try:
            data = json.loads(self.index_path.read_text())
            return [ModelVersionDoc.model_validate(m) for m in data["models"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise ModelLoadError(f"corrupt registry index {self.index_path}: {exc}") from exc

    def _write(self, entries: list[ModelVersionDoc]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        payload = {
            "format": INDEX_FORMAT,
            "models": [e.model_dump(mode="json") for e in entries],
        }
        fd, tmp = tempfile.mkstemp(prefix=".index-", suffix=".json", dir=self.root)
        try:
            with os.fdopen(fd, "w") as fh:
                json.dump(payload, fh, indent=2)
                fh.write("\n")
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.index_path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    # -- queries -------------------------------------------------------------------------------
    def list(self) -> list[ModelVersionDoc]:
        """All registered versions, oldest registration first."""
        return self._read()

    def get(self, version_or_name: str) -> ModelVersionDoc:
        """A registered version by exact version, unique version prefix, or name.

        A name shared by several versions gives the most recently created one.

        Raises
        ------
        UnknownModelError
            If nothing (or more than one version for a prefix) matches.

        """
        entries = self._read()
        for entry in entries:
            if entry.model_version == version_or_name:
                return entry
        prefixed = [e for e in entries if e.model_version.startswith(version_or_name)]
        if len(prefixed) == 1:
            return prefixed[0]
        if len(prefixed) > 1:
            raise UnknownModelError(
                f"{version_or_name!r} is ambiguous: " + ", ".join(e.model_version for e in prefixed)
            )
        named = [e for e in entries if e.name == version_or_name]
        if named:
            return max(named, key=lambda e: (e.created_utc, e.registered_utc or ""))
        known = ", ".join(e.model_version for e in entries) or "none"
        raise UnknownModelError(
            f"no model {version_or_name!r} in the registry {self.root} (registered: {known})"
        )

    def current(self) -> ModelVersionDoc:
        """The promoted version, else an entry for the shipped default model."""
        for entry in self._read():
            if entry.promoted:
                return entry

        shipped = default_model_dir()
        return entry_from_card(read_card(shipped), shipped, shipped=True)

    def current_dir(self) -> Path:
        """Folder of :meth:`current`."""
        return Path(self.current().path)

    def resolve_dir(self, model: str | Path | None) -> Path:
        """The folder of a model given in any of the forms a user may write.

        This is the one place where a model name becomes a folder.

        Parameters
        ----------
        model
            A model folder, a registered version (or unique prefix) or name, the name of a
            shipped model, or None for :meth:`current` (the promoted version, else the
            shipped default).

        Raises
        ------
        FileNotFoundError
            Nothing of that name is registered or shipped, and no such folder exists.
        """
        if model is None:
            return self.current_dir()
        path = Path(model).expanduser()
        if path.is_dir():
            return path
        try:
            return Path(self.get(str(model)).path)
        except UnknownModelError:
            return resolve_model_dir(str(model))

    def lineage(self, version: str) -> list[ModelVersionDoc]:
        """The version and its registered ancestors, nearest first (breadth-first).

        A combined model lists several parents; each ancestor appears once. Parents that
        are not registered (e.g. the shipped default) are skipped; see :meth:`missing_parents`.
        """
        start = self.get(version)
        by_version = {e.model_version: e for e in self._read()}
        out, seen, queue = [], {start.model_version}, [start]
        while queue:
            entry = queue.pop(0)
            out.append(entry)
            for parent in entry.parents:
                if parent in by_version and parent not in seen:
                    seen.add(parent)
                    queue.append(by_version[parent])
        return out

    def missing_parents(self, version: str) -> list[str]:
        """Parent versions named in the lineage of ``version`` that are not registered."""
        registered = {e.model_version for e in self._read()}
        missing: list[str] = []
        for entry in self.lineage(version):
            missing += [p for p in entry.parents if p not in registered and p not in missing]
        return missing

    # -- changes -------------------------------------------------------------------------------
    def register(self, model_dir: Path | str, *, copy: bool = True) -> ModelVersionDoc:
        """Add a model folder to the registry (idempotent for an already registered version).

        Parameters
        ----------
        model_dir
            A model folder (card + weights); its checksums and shapes are verified first.
        copy
            Copy the folder into the registry (default) or move it there.

        Returns
        -------
        ModelVersionDoc
            The new entry, or the existing one when the version is already registered and
            its folder is intact.

        Raises
        ------
        ModelLoadError
            If the folder is not a valid model folder.

        """
        model_dir = Path(model_dir)
        card = verify_model(model_dir)
        entries = self._read()
        target = self.root / card.model_version
        for i, entry in enumerate(entries):
            if entry.model_version != card.model_version:
                continue
            try:
                _verify_checksums(Path(entry.path), card)
                return entry
            except ModelLoadError:
                # the stored folder is damaged or gone: replace it, keep the promotion state
                entries.pop(i)
                self._store(model_dir, target, card, copy=copy)
                fresh = entry_from_card(
                    card,
                    target,
                    registered_utc=_now(),
                    promoted=entry.promoted,
                    promoted_utc=entry.promoted_utc,
                )
                entries.insert(i, fresh)
                self._write(entries)
                return fresh
        self._store(model_dir, target, card, copy=copy)
        entry = entry_from_card(card, target, registered_utc=_now())
        self._write([*entries, entry])
        return entry

    def _store(self, source: Path, target: Path, card: AnyCard, *, copy: bool) -> None:
        if source.resolve() == target.resolve():
            return
        self.root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{card.model_version}-", dir=self.root))
        try:
            if copy:
                shutil.copytree(source, staging, dirs_exist_ok=True)
            else:
                staging.rmdir()
                shutil.move(str(source), str(staging))
            _verify_checksums(staging, card)
            if target.exists():
                shutil.rmtree(target)
            os.replace(staging, target)
        except BaseException:
            if copy:
                shutil.rmtree(staging, ignore_errors=True)
            raise

    def promote(self, version: str) -> ModelVersionDoc:
        """Make ``version`` the current model (exactly one version is promoted).

        Raises
        ------
        UnknownModelError
            If the version is not registered.

        """
        chosen = self.get(version)
        entries = self._read()
        now = _now()
        out = []
        for entry in entries:
            if entry.model_version == chosen.model_version:
                entry = entry.model_copy(update={"promoted": True, "promoted_utc": now})
                chosen = entry
            elif entry.promoted:
                entry = entry.model_copy(update={"promoted": False, "promoted_utc": None})
            out.append(entry)
        self._write(out)
        return chosen
