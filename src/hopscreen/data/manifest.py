"""The upstream data files hopscreen uses, pinned by commit and sha256.

Local layout (the same as ``../shared/data``)::

    <data dir>/em_dataset/<upstream path>     the published migration-barrier dataset
    <data dir>/pretrain/<file>                the multi-property pre-training corpus

The ``em_dataset`` files are byte-identical to the upstream repository at the pinned commit
and are downloaded from ``raw.githubusercontent.com``. The ``pretrain`` files were *derived*
(merged and deduplicated from ~400 upstream JSON files of another repository); they have no
single upstream URL, so they are registered for verification only.
"""

from __future__ import annotations

from dataclasses import dataclass

RAW_URL = "https://raw.githubusercontent.com/{repo}/{commit}/{path}"

EM_REPO = "sai-mat-group/predicting-migration-barriers"
EM_COMMIT = "577fbc45d8edb081a7b67b82f135c55ad0a4a256"
PRETRAIN_REPO = "sai-mat-group/transfer-learning-material-properties"
PRETRAIN_COMMIT = "b21643f5a99fa0b3e9dc51bf49f6e0d812470d18"

EM_SOURCE = (
    "Devi, Balasubramanian, Butler & Sai Gautam, Sci. Data 12, 1922 (2025); "
    f"{EM_REPO}@{EM_COMMIT[:7]}"
)
PRETRAIN_SOURCE = (
    "Devi et al., npj Comput. Mater. 10, 300 (2024), doi:10.1038/s41524-024-01486-1; "
    f"derived from {PRETRAIN_REPO}@{PRETRAIN_COMMIT[:7]}"
)

# Relative paths inside em_dataset/ of the files that the loaders read.
EM_TRAIN_JSON = "DATA_FILES/MODEL-3-4/RAW/RAW-Em-5-images-TRAIN.json"
EM_TEST_JSON = "DATA_FILES/MODEL-3-4/RAW/RAW-Em-5-images-TEST.json"
EM_BOTH_TEST_JSON = "DATA_FILES/MODEL-1-2/RAW/BOTH-RAW-Em-TEST.json"
EM_SINGLE_TEST_JSON = "DATA_FILES/SINGLE-PATHWAY-STRUCTURES/RAW/SINGLE-BOTH-RAW-Em-TEST.json"
EM_TABULATION = "TABULATION-GIT-HUB.xlsx"


@dataclass(frozen=True)
class DataFile:
    """One registered file.

    Attributes
    ----------
    dataset : str
        Dataset name, also the top-level folder in the data directory.
    path : str
        Path relative to the dataset folder (POSIX separators).
    sha256 : str
        Pinned checksum of the file's bytes.
    size : int
        Size in bytes (for progress and ``data info``).
    url : str or None
        Where ``download`` fetches it; None when it cannot be fetched as-is.
    required : bool
        Whether the loaders need it (optional files are verified only when present).

    """

    dataset: str
    path: str
    sha256: str
    size: int
    url: str | None
    required: bool = True

    @property
    def relpath(self) -> str:
        """Path relative to the data directory, ``<dataset>/<path>``."""
        return f"{self.dataset}/{self.path}"


@dataclass(frozen=True)
class Dataset:
    """A named group of files with its provenance."""

    name: str
    description: str
    source: str
    files: tuple[DataFile, ...]
    downloadable: bool
    note: str = ""


def _em(path: str, sha256: str, size: int) -> DataFile:
    url = RAW_URL.format(repo=EM_REPO, commit=EM_COMMIT, path=path)
    return DataFile("em_dataset", path, sha256, size, url)


def _pt(path: str, sha256: str, size: int, required: bool = True) -> DataFile:
    return DataFile("pretrain", path, sha256, size, None, required)


EM_DATASET = Dataset(
    name="em_dataset",
    description="619 DFT-NEB migration barriers (559 train / 60 test), Model-3 band records",
    source=EM_SOURCE,
    downloadable=True,
    files=(
        _em(
            EM_TRAIN_JSON,
            "e6d5579769d8ac2bdee2bdf462c5f24b3410779c7a768ed6673f0e47f9865c7c",
            4054304,
        ),
        _em(
            EM_TEST_JSON, "7e85991d547c7245d7dbccc9c700c3c94bb107d4a59661cffd53de74338a1aee", 414806
        ),
        _em(
            EM_BOTH_TEST_JSON,
            "e4593adbeaa029967b1cdf5e2484399ddf679c7f16cb18396863c34de297892f",
            801373,
        ),
        _em(
            EM_SINGLE_TEST_JSON,
            "78babcf36113a9e85910d596ea8a0b47638a2a1ef6631752af937f35ec3ca299",
            551446,
        ),
        _em(
            EM_TABULATION,
            "a460c28feca0157d25d066c2a7b85056da43bd019332ec0226a4cc96583ea45d",
            151786,
        ),
    ),
)

PRETRAIN_NOTE = (
    "The pretrain corpus was derived (merged and deduplicated) from ~400 JSON files of "
    f"{PRETRAIN_REPO} at commit {PRETRAIN_COMMIT}; there is no upstream copy of these files "
    "to download. To use it, point HOPSCREEN_DATA_DIR (or --data-dir) at a directory whose "
    "pretrain/ folder holds a copy (e.g. the project's shared data folder); its files are "
    "then verified against the checksums registered here."
)

PRETRAIN = Dataset(
    name="pretrain",
    description="multi-property pre-training corpus (7 properties, 30,529 records)",
    source=PRETRAIN_SOURCE,
    downloadable=False,
    note=PRETRAIN_NOTE,
    files=(
        _pt(
            "gv.jsonl.gz",
            "facca34770c705d1d26ca428fc87247f99f5fa73ed3b6fd54542edd92c0b39a5",
            1031366,
        ),
        _pt(
            "ph.jsonl.gz",
            "c7b1dce3ea58cf47de4c04d1b80c51f20928032383432e474bd9b06222aa3807",
            213244,
        ),
        _pt(
            "pz.jsonl.gz",
            "a23f7b14028c18b7ee4843a623b2e4439827c0c14a2ebfe0a5856883e0fcf94e",
            161081,
        ),
        _pt(
            "dc.jsonl.gz",
            "29e523ccf78b68fcb536540547c362da07bcc92c698dde0ab4306c8d5f40a992",
            158494,
        ),
        _pt(
            "ebg.jsonl.gz",
            "b214f6b50a7bdd11beb056e99a022fb16a851aa7c74d3de2ade9a710d3789a41",
            694522,
        ),
        _pt(
            "fe.jsonl.gz",
            "a4425337655fc3fb55caa6bb0e858124dcff83c4ffad35e039111883620e1928",
            3753581,
        ),
        _pt(
            "bg.jsonl.gz",
            "f9b40200ceed2d988914a505084f58fac5e87b4f01e7d6f63b0b7c268c7448c8",
            4158135,
        ),
        _pt(
            "LICENSE-source-MIT.txt",
            "1942d8dce1b57d6e0940d4047bc9361be701853d0fb8595380edbb7a3b703e6e",
            1103,
            required=False,
        ),
        _pt(
            "extra/jarvis2d.jsonl.gz",
            "12a99a570a52de3afa937d2c5f05375ff4a520233f5895cedb4ba999aacd6b68",
            252341,
            required=False,
        ),
    ),
)

DATASETS: dict[str, Dataset] = {d.name: d for d in (EM_DATASET, PRETRAIN)}


def get_dataset(name: str) -> Dataset:
    """Look up a registered dataset by name; raise ``KeyError`` listing the known names."""
    try:
        return DATASETS[name]
    except KeyError:
        raise KeyError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}") from None


def data_file(dataset: str, path: str) -> DataFile:
    """The registered entry of one file (``KeyError`` if it is not registered)."""
    for f in get_dataset(dataset).files:
        if f.path == path:
            return f
    raise KeyError(f"{dataset}/{path} is not a registered file")
