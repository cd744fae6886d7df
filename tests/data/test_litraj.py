"""The LiTraj loader on a small rock-salt LiF fixture built here (no network, no real data)."""

from __future__ import annotations

import hashlib
import io
import json
import re
import stat
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from ase import Atoms
from ase.build import bulk
from ase.io import write
from typer.testing import CliRunner

from hopscreen.data import download as download_module
from hopscreen.data import litraj
from hopscreen.data.litraj import (
    LITRAJ_SOURCE,
    LITRAJ_URLS,
    PINNED_SHA256,
    band_from_centroid,
    band_from_trajectory,
    download_litraj,
    litraj_status,
    load_litraj_neb,
    recorded_sha256,
    safe_extract,
)
from hopscreen.data.paths import DataCorruptError, DataNotFoundError, HopscreenDataError

A = 4.03  # LiF lattice constant, Å
MP = "mp-1138"


def supercell() -> Atoms:
    """2x2x2 conventional rock-salt LiF: 32 Li, 32 F, cubic 8.06 Å cell."""
    return bulk("LiF", "rocksalt", a=A, cubic=True).repeat((2, 2, 2))


def hop_sites(atoms: Atoms) -> tuple[int, int]:
    """A Li at x = 0 and its nearest Li neighbour across the x = 0 face (at x = 3/4)."""
    frac = atoms.get_scaled_positions()
    li = [i for i in range(len(atoms)) if atoms.numbers[i] == 3]
    source = next(i for i in li if np.allclose(frac[i], [0, 0, 0]))
    target = next(i for i in li if np.allclose(frac[i], [0.75, 0.25, 0]))
    return source, target


def trajectory(t: list[float], bump: float = 0.3, keep_target: bool = False) -> list[Atoms]:
    """NEB images of the Li at the origin hopping to the vacant site across the cell face.

    Image k puts the ion at fraction ``t[k]`` of the straight hop (-A/2, A/2, 0) with a
    sideways bump ``bump·sin(πt)`` along z; images are wrapped, so the ion jumps across the
    cell boundary in the stored coordinates.
    """
    base = supercell()
    source, target = hop_sites(base)
    start = base.positions[source].copy()
    if not keep_target:
        del base[target]
        source -= int(target < source)
    hop = np.array([-A / 2, A / 2, 0.0])
    rng = np.random.default_rng(0)
    images = []
    for k, tk in enumerate(t):
        img = base.copy()
        img.positions[source] = start + tk * hop + [0, 0, bump * np.sin(np.pi * tk)]
        if 0 < k < len(t) - 1:  # host relaxes a little in the middle images
            noise = rng.normal(scale=0.01, size=(len(img), 3))
            noise[source] = 0.0
            img.positions += noise
        img.wrap()
        images.append(img)
    return images


def ion_point(t: float, bump: float = 0.3) -> np.ndarray:
    return (
        np.array([0.0, 0.0, 0.0])
        + t * np.array([-A / 2, A / 2, 0])
        + [0, 0, bump * np.sin(np.pi * t)]
    )


def periodic_distance(a: np.ndarray, b: np.ndarray, cell: float = 2 * A) -> float:
    d = (np.asarray(a) - np.asarray(b)) / cell
    d -= np.round(d)
    return float(np.linalg.norm(d * cell))


HOPS = [  # edge_id, split, em
    (f"{MP}_0_9_-1_0_0", "train", 0.31),
    (f"{MP}_1_10_0_0_0", "val", 0.42),
    (f"{MP}_2_11_0_0_1", "test", 0.53),
]


def write_dft(folder: Path, hops=HOPS, n_images: int = 5) -> Path:
    """A nebDFT2k folder: index CSV, init/relaxed trajectories, a centroids file."""
    folder.mkdir(parents=True, exist_ok=True)
    t = list(np.linspace(0, 1, n_images))
    rows = []
    for edge_id, split, em in hops:
        write(folder / f"{edge_id}_relaxed.xyz", trajectory(t), format="extxyz")
        write(folder / f"{edge_id}_init.xyz", trajectory(t, bump=0.0), format="extxyz")
        rows.append(
            {"material_id": MP, "edge_id": edge_id, "chemsys": "F-Li", "_split": split, "em": em}
        )
    pd.DataFrame(rows).to_csv(folder / "nebDFT2k_index.csv", index=False)
    centroids = [centroid_frame(e, em) for e, _, em in hops]
    write(folder / "nebDFT2k_centroids.xyz", centroids, format="extxyz")
    return folder


def centroid_frame(edge_id: str, em: float, keep_target: bool = True) -> Atoms:
    """Pristine supercell (both sites kept unless told) plus an 'X' atom at the hop's midpoint."""
    atoms = supercell()
    source, target = hop_sites(atoms)
    mid = atoms.positions[source] + 0.5 * np.array([-A / 2, A / 2, 0.0])
    if not keep_target:
        del atoms[target]
    atoms += Atoms("X", positions=[mid])
    atoms.wrap()
    atoms.info.update({"edge_id": edge_id, "material_id": MP, "em": em})
    return atoms


@pytest.fixture
def root(tmp_path: Path) -> Path:
    write_dft(tmp_path / "litraj" / "nebDFT2k")
    return tmp_path


def zip_bytes(folder: Path, arc_root: str = "nebDFT2k") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for path in sorted(folder.iterdir()):
            zf.write(path, f"{arc_root}/{path.name}")
    return buf.getvalue()


class FakeOpener:
    def __init__(self, payload: bytes) -> None:
        self.payload = payload
        self.calls: list[str] = []

    def __call__(self, url: str, timeout: float) -> io.BytesIO:
        self.calls.append(url)
        return io.BytesIO(self.payload)


@pytest.fixture
def archive(tmp_path: Path) -> bytes:
    return zip_bytes(write_dft(tmp_path / "src" / "nebDFT2k"))


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(url: str, timeout: float):
        raise AssertionError(f"test tried the network: {url}")

    monkeypatch.setattr(download_module, "_open_url", refuse)


def test_band_layout_five_images():
    images = trajectory([0, 0.25, 0.5, 0.75, 1])
    band = band_from_trajectory(images)
    assert len(band) == len(images[0]) - 1 + 5
    assert band.symbols[:5] == ["Li"] * 5
    cart = band.cart_coords
    for k, t in enumerate([0, 0.25, 0.5, 0.75, 1]):
        assert periodic_distance(cart[k], ion_point(t)) < 1e-6
    # continuous path: neighbouring copies a quarter hop apart, not a cell length
    steps = [periodic_distance(cart[k], cart[k + 1]) for k in range(4)]
    assert max(steps) < 1.0
    # host = first image without the mover, in order
    first = images[0]
    mover = int(np.argmin([periodic_distance(p, ion_point(0)) for p in first.positions]))
    host = np.delete(np.arange(len(first)), mover)
    assert np.array_equal(band.numbers[5:], first.numbers[host])
    assert np.allclose(band.frac_coords[5:], first.get_scaled_positions()[host] % 1.0)


def test_end_site_is_vacant_in_band():
    band = band_from_trajectory(trajectory([0, 0.25, 0.5, 0.75, 1]))
    end = band.cart_coords[4]
    host_li = band.cart_coords[5:][band.numbers[5:] == 3]
    assert min(periodic_distance(end, p) for p in host_li) > 2.0
    assert (band.numbers[5:] == 3).sum() == 30  # 32 Li - target vacancy - mover


def test_band_interpolates_along_arc_length():
    t = [0, 0.1, 0.2, 0.5, 0.6, 0.9, 1]  # 7 uneven images on a straight line
    band = band_from_trajectory(trajectory(t, bump=0.0))
    for k, frac in enumerate([0, 0.25, 0.5, 0.75, 1]):
        assert periodic_distance(band.cart_coords[k], ion_point(frac, bump=0.0)) < 1e-6


def test_occupied_target_is_an_error():
    with pytest.raises(HopscreenDataError, match="vacant"):
        band_from_trajectory(trajectory([0, 0.25, 0.5, 0.75, 1], keep_target=True))


def test_mover_must_be_li():
    images = trajectory([0, 0.5, 1])
    for img in images:
        img.numbers[img.numbers == 3] = 11  # every Li becomes Na
    with pytest.raises(HopscreenDataError, match="moves most is Na"):
        band_from_trajectory(images)
    images = trajectory([0, 0.5, 1])
    images[1] = images[1][:-1]
    with pytest.raises(HopscreenDataError, match="image 1"):
        band_from_trajectory(images)


def test_records_barrier_and_tags(root: Path):
    records = load_litraj_neb(root, verify=False)
    assert [r.sys_name for r in records] == [h[0] for h in HOPS]
    assert [r.barrier_ev for r in records] == [h[2] for h in HOPS]
    assert [r.split for r in records] == ["train", "val", "test"]
    assert [r.index for r in records] == [0, 1, 2]
    r = records[0]
    assert r.record_id == f"litraj-nebDFT2k-{HOPS[0][0]}"
    assert (r.working_ion, r.xc_functional, r.source) == ("Li", "GGA", LITRAJ_SOURCE)
    assert r.formula == "Li35 F32"  # 5 copies + 30 host Li; order of appearance
    assert r.n_atoms_band == 67 and r.band is not None
    assert r.band_hash == r.band.fingerprint()
    assert set(PINNED_SHA256) == set(LITRAJ_URLS) == set(litraj.XC_TAGS)
    assert all(v is None for v in PINNED_SHA256.values())  # no made-up checksums
    assert "10.1038/s41524-025-01571-z" in LITRAJ_SOURCE


def test_split_filter_and_without_structures(root: Path):
    records = load_litraj_neb(root, splits=("val", "test"), with_structures=False, verify=False)
    assert [r.split for r in records] == ["val", "test"]
    assert all(r.band is None for r in records)
    with pytest.raises(ValueError, match="unknown split"):
        load_litraj_neb(root, splits=("dev",), verify=False)


def test_arc_length_layout_through_loader(tmp_path: Path):
    write_dft(tmp_path / "litraj" / "nebDFT2k", n_images=7)
    band = load_litraj_neb(tmp_path, splits=("train",), verify=False)[0].band
    assert band is not None
    assert periodic_distance(band.cart_coords[2], ion_point(0.5)) < 0.05


def test_verified_load_needs_the_archive(root: Path):
    with pytest.raises(DataNotFoundError, match=r"nebDFT2k\.zip"):
        load_litraj_neb(root)


def test_missing_folder_says_what_to_run(tmp_path: Path):
    with pytest.raises(
        DataNotFoundError, match="hopscreen data download --dataset litraj-nebdft2k"
    ):
        load_litraj_neb(tmp_path)


def test_missing_hop_file_is_named(root: Path):
    gone = root / "litraj" / "nebDFT2k" / f"{HOPS[1][0]}_relaxed.xyz"
    gone.unlink()
    with pytest.raises(DataNotFoundError) as info:
        load_litraj_neb(root, verify=False)
    assert gone.name in str(info.value) and "line 3" in str(info.value)


def test_unparsable_csv_names_file_and_line(root: Path):
    index = root / "litraj" / "nebDFT2k" / "nebDFT2k_index.csv"
    index.write_text(index.read_text() + "a,b,c,d,e,f,g,h\n")
    with pytest.raises(HopscreenDataError, match=r"nebDFT2k_index\.csv.*line 5"):
        load_litraj_neb(root, verify=False)


@pytest.mark.parametrize(
    ("column", "value", "match"),
    [("_split", "dev", "line 3: _split is 'dev'"), ("em", "high", "line 3: em 'high'")],
)
def test_bad_index_values_name_the_line(root: Path, column: str, value: str, match: str):
    index = root / "litraj" / "nebDFT2k" / "nebDFT2k_index.csv"
    df = pd.read_csv(index).astype({column: object})
    df.loc[1, column] = value
    df.to_csv(index, index=False)
    with pytest.raises(HopscreenDataError, match=match):
        load_litraj_neb(root, verify=False)


def test_hop_without_barrier_is_counted_and_warned(root: Path):
    index = root / "litraj" / "nebDFT2k" / "nebDFT2k_index.csv"
    df = pd.read_csv(index)
    df.loc[0, "em"] = np.nan
    df.to_csv(index, index=False)
    with pytest.warns(UserWarning, match="skipped 1 hop"):
        records = load_litraj_neb(root, verify=False)
    assert [r.sys_name for r in records] == [HOPS[1][0], HOPS[2][0]]


def test_bad_trajectory_error_names_the_file(root: Path):
    path = root / "litraj" / "nebDFT2k" / f"{HOPS[0][0]}_relaxed.xyz"
    write(path, trajectory([0, 0.5, 1], keep_target=True), format="extxyz")
    with pytest.raises(HopscreenDataError, match=re.escape(path.name)):
        load_litraj_neb(root, verify=False)


def test_first_download_records_checksum_then_verifies(tmp_path: Path, archive: bytes):
    fake = FakeOpener(archive)
    with pytest.warns(UserWarning, match="no pinned checksum"):
        folder = download_litraj("nebDFT2k", tmp_path, opener=fake)
    assert fake.calls == [LITRAJ_URLS["nebDFT2k"]]
    digest = hashlib.sha256(archive).hexdigest()
    assert recorded_sha256("nebDFT2k", tmp_path) == digest
    record = tmp_path / "litraj" / "nebDFT2k.zip.sha256"
    assert record.read_text() == f"{digest}  nebDFT2k.zip\n"
    assert (folder / "nebDFT2k_index.csv").is_file()
    assert not list((tmp_path / "litraj").glob(".*"))  # no temporary leftovers
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the second load warns about nothing
        assert len(load_litraj_neb(tmp_path)) == 3
        download_litraj("nebDFT2k", tmp_path, opener=fake)  # present: no new fetch
    assert len(fake.calls) == 1


def test_tampered_zip_is_detected_on_load(tmp_path: Path, archive: bytes):
    with pytest.warns(UserWarning):
        download_litraj("nebDFT2k", tmp_path, opener=FakeOpener(archive))
    (tmp_path / "litraj" / "nebDFT2k.zip").write_bytes(archive + b"x")
    with pytest.raises(DataCorruptError, match="recorded on its first download"):
        load_litraj_neb(tmp_path)


def test_changed_upstream_is_rejected_and_nothing_replaced(tmp_path: Path, archive: bytes):
    with pytest.warns(UserWarning):
        download_litraj("nebDFT2k", tmp_path, opener=FakeOpener(archive))
    changed = zip_bytes(write_dft(tmp_path / "other" / "nebDFT2k", hops=HOPS[:1]))
    with pytest.raises(DataCorruptError):
        download_litraj("nebDFT2k", tmp_path, force=True, opener=FakeOpener(changed))
    assert (tmp_path / "litraj" / "nebDFT2k.zip").read_bytes() == archive
    assert not list((tmp_path / "litraj").glob("*.part")) + list((tmp_path / "litraj").glob(".*"))


def test_pinned_checksum_wins(tmp_path: Path, archive: bytes, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(PINNED_SHA256, "nebDFT2k", "0" * 64)
    with pytest.raises(DataCorruptError, match="pinned"):
        download_litraj("nebDFT2k", tmp_path, opener=FakeOpener(archive))
    assert not (tmp_path / "litraj" / "nebDFT2k.zip").exists()
    assert recorded_sha256("nebDFT2k", tmp_path) is None
    monkeypatch.setitem(PINNED_SHA256, "nebDFT2k", hashlib.sha256(archive).hexdigest())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # pinned: nothing to record, no warning
        download_litraj("nebDFT2k", tmp_path, opener=FakeOpener(archive))
    assert recorded_sha256("nebDFT2k", tmp_path) is None


def _zip_with(name: str, symlink: bool = False) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("nebDFT2k/ok.txt", "fine")
        info = zipfile.ZipInfo(name)
        if symlink:
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd" if symlink else "evil")
    return buf.getvalue()


UNSAFE = ["../evil.txt", "nebDFT2k/../../evil.txt", "/abs/evil.txt", "C:/evil.txt", "x/link"]


@pytest.mark.parametrize("member", UNSAFE)
def test_unsafe_member_rejected(tmp_path: Path, member: str):
    zip_path = tmp_path / "bad.zip"
    zip_path.write_bytes(_zip_with(member, symlink=member.endswith("link")))
    dest = tmp_path / "out" / "inner"
    with pytest.raises(HopscreenDataError, match="unsafe zip member"):
        safe_extract(zip_path, dest)
    assert not (dest / "nebDFT2k" / "ok.txt").exists()  # checked before anything is written
    assert not list(tmp_path.rglob("evil.txt"))


@pytest.mark.parametrize(
    ("payload", "match"),
    [
        (_zip_with("../../evil.txt"), "unsafe zip member"),
        (b"<html>not found</html>", "not a readable zip"),
        (b"", "not a readable zip"),
    ],
)
def test_bad_first_download_is_never_trusted(tmp_path: Path, payload: bytes, match: str):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # refused before anything is recorded
        with pytest.raises(HopscreenDataError, match=match):
            download_litraj("nebDFT2k", tmp_path, opener=FakeOpener(payload))
    assert recorded_sha256("nebDFT2k", tmp_path) is None
    assert sorted(p.name for p in (tmp_path / "litraj").iterdir()) == []
    assert not list(tmp_path.rglob("evil.txt"))


def test_truncated_member_is_refused(tmp_path: Path, archive: bytes):
    damaged = bytearray(archive)
    at = archive.index(b"Lattice=") + 40  # inside the first member's data (stored uncompressed)
    damaged[at] ^= 0xFF
    with pytest.raises(HopscreenDataError, match="CRC"):
        download_litraj("nebDFT2k", tmp_path, opener=FakeOpener(bytes(damaged)))
    assert recorded_sha256("nebDFT2k", tmp_path) is None


def test_status_lines(tmp_path: Path, archive: bytes):
    status = {s["dataset"]: s for s in litraj_status(tmp_path)}
    assert status["litraj-nebdft2k"]["state"] == "absent"
    assert status["litraj-nebdft2k"]["note"] == "not pinned: recorded on first download"
    with pytest.warns(UserWarning):
        download_litraj("nebDFT2k", tmp_path, opener=FakeOpener(archive))
    assert {s["dataset"]: s["state"] for s in litraj_status(tmp_path)} == {
        "litraj-nebdft2k": "ok",
        "litraj-nebbvse122k": "absent",
    }
    (tmp_path / "litraj" / "nebDFT2k.zip").write_bytes(b"changed")
    assert litraj_status(tmp_path)[0]["state"] == "BAD sha256"


def test_bvse_band_from_centroid_removes_target_li():
    atoms = centroid_frame(f"{MP}_0_9_-1_0_0", 0.7)
    source, target = hop_sites(supercell())
    band, removed = band_from_centroid(atoms, f"{MP}_{source}_{target}_-1_0_0")
    assert removed
    cart = band.cart_coords
    pristine = supercell().positions
    assert periodic_distance(cart[0], pristine[source]) < 1e-6
    assert periodic_distance(cart[4], pristine[target]) < 1e-6
    assert periodic_distance(cart[2], atoms.positions[-1]) < 1e-6  # midpoint = X
    assert periodic_distance(cart[1], cart[0]) == pytest.approx(A / np.sqrt(2) / 4)
    assert len(band) == 64 - 2 + 5 and 0 not in band.numbers
    assert (band.numbers[5:] == 3).sum() == 30
    # ties between the two equidistant Li go to the edge id's source
    flipped, _ = band_from_centroid(atoms, f"{MP}_{target}_{source}_1_0_0")
    assert periodic_distance(flipped.cart_coords[0], pristine[target]) < 1e-6


def test_bvse_vacant_target_kept_and_no_x_is_an_error():
    band, removed = band_from_centroid(centroid_frame("e", 0.5, keep_target=False))
    assert not removed and (band.numbers[5:] == 3).sum() == 30  # 32 - target - mover
    with pytest.raises(HopscreenDataError, match="one 'X'"):
        band_from_centroid(supercell())


def test_load_bvse(tmp_path: Path):
    folder = tmp_path / "litraj" / "nebBVSE122k"
    folder.mkdir(parents=True)
    for k, split in enumerate(("train", "val", "test")):
        frames = [centroid_frame(f"{MP}_{k}_{j}_0_0_0", 0.1 * (k + j + 1)) for j in range(2)]
        write(folder / f"nebBVSE122k_{split}.xyz", frames, format="extxyz")
    records = load_litraj_neb(tmp_path, name="nebBVSE122k", splits=("test", "train"), verify=False)
    assert [r.split for r in records] == ["test", "test", "train", "train"]
    assert [r.barrier_ev for r in records] == pytest.approx([0.3, 0.4, 0.1, 0.2])
    assert {r.xc_functional for r in records} == {"BVSE"}
    assert records[0].record_id == f"litraj-nebBVSE122k-{MP}_2_0_0_0_0"
    assert records[0].n_atoms_band == 67
    (folder / "nebBVSE122k_val.xyz").unlink()
    with pytest.raises(DataNotFoundError, match=r"nebBVSE122k_val\.xyz"):
        load_litraj_neb(tmp_path, name="nebBVSE122k", verify=False)


def test_bvse_frame_without_em_is_an_error(tmp_path: Path):
    folder = tmp_path / "litraj" / "nebBVSE122k"
    folder.mkdir(parents=True)
    frame = centroid_frame("e", 0.5)
    del frame.info["em"]
    write(folder / "nebBVSE122k_train.xyz", [centroid_frame("a", 0.5), frame], format="extxyz")
    with pytest.raises(HopscreenDataError, match=r"frame 1 of .*numeric em"):
        load_litraj_neb(tmp_path, name="nebBVSE122k", splits=("train",), verify=False)


def test_cli_download_and_info(tmp_path: Path, archive: bytes, data_dir: Path, monkeypatch):
    from hopscreen.cli.data import app

    monkeypatch.setattr(download_module, "_open_url", FakeOpener(archive))
    runner = CliRunner()
    result = runner.invoke(
        app, ["download", "--dest", str(tmp_path), "--dataset", "litraj-nebdft2k"]
    )
    assert result.exit_code == 0, result.output
    assert "litraj-nebdft2k: extracted" in result.stdout
    assert "no pinned checksum" in result.stderr
    assert recorded_sha256("nebDFT2k", tmp_path) == hashlib.sha256(archive).hexdigest()
    for name in ("em_dataset", "pretrain"):
        (tmp_path / name).symlink_to(data_dir / name)
    info = runner.invoke(app, ["info", "--data-dir", str(tmp_path), "--json"])
    assert info.exit_code == 0, info.output
    states = {s["dataset"]: s["state"] for s in json.loads(info.stdout)["litraj"]}
    assert states == {"litraj-nebdft2k": "ok", "litraj-nebbvse122k": "absent"}
