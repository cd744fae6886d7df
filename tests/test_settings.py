"""Site settings: the settings file, HOPSCREEN_* variables over it, MP_API_KEY, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from hopscreen.settings import (
    CONFIG_FILE_VAR,
    HopscreenSettings,
    SettingsError,
    load_settings,
)

VARIABLES = (
    CONFIG_FILE_VAR,
    "HOPSCREEN_DATA_DIR",
    "HOPSCREEN_JOB_STORE",
    "HOPSCREEN_REGISTRY_DIR",
    "HOPSCREEN_MP_API_KEY",
    "MP_API_KEY",
)


@pytest.fixture
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No hopscreen variable set; HOME is an empty folder (no default settings file)."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


def _settings_file(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "settings.yaml"
    path.write_text(text)
    return path


def test_nothing_configured_gives_the_defaults(clean_env: Path) -> None:
    settings = load_settings()
    assert settings == HopscreenSettings()
    assert settings.job_store is None and settings.data_dir is None
    assert settings.registry_dir is None and settings.mp_api_key is None


def test_file_values_then_variables_override_them(
    clean_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _settings_file(
        tmp_path / "site",
        "job_store: stores/jobflow.yaml\ndata_dir: /data/from-file\nregistry_dir: /models\n",
    )
    monkeypatch.setenv(CONFIG_FILE_VAR, str(path))
    from_file = load_settings()
    # relative paths of the file are relative to the file's folder
    assert from_file.job_store == tmp_path / "site" / "stores" / "jobflow.yaml"
    assert from_file.data_dir == Path("/data/from-file")
    monkeypatch.setenv("HOPSCREEN_DATA_DIR", str(tmp_path / "from-env"))
    monkeypatch.setenv("HOPSCREEN_JOB_STORE", "")  # empty: unset, the file's value stays
    both = load_settings()
    assert both.data_dir == tmp_path / "from-env"
    assert both.job_store == from_file.job_store
    assert both.registry_dir == Path("/models")


def test_the_default_file_is_read_when_present(clean_env: Path) -> None:
    _settings_file(clean_env / ".config" / "hopscreen", "registry_dir: ~/models\n")
    assert load_settings().registry_dir == clean_env / "models"


def test_mp_key_from_either_variable_and_never_shown(
    clean_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _settings_file(tmp_path, "mp_api_key: key-from-file\n")
    monkeypatch.setenv(CONFIG_FILE_VAR, str(path))
    assert load_settings().mp_api_key.get_secret_value() == "key-from-file"
    monkeypatch.setenv("MP_API_KEY", "key-from-mp-variable")
    assert load_settings().mp_api_key.get_secret_value() == "key-from-mp-variable"
    monkeypatch.setenv("HOPSCREEN_MP_API_KEY", "key-from-hopscreen-variable")
    settings = load_settings()
    assert settings.mp_api_key.get_secret_value() == "key-from-hopscreen-variable"
    assert "key-from" not in repr(settings) and "key-from" not in str(settings)


def test_data_registry_and_mp_key_readers_use_the_settings(
    clean_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hopscreen.candidates.mp import _resolve_api_key
    from hopscreen.data.paths import resolve_data_dir
    from hopscreen.registry import default_registry_root

    path = _settings_file(
        tmp_path, "data_dir: data\nregistry_dir: registry\nmp_api_key: file-key\n"
    )
    monkeypatch.setenv(CONFIG_FILE_VAR, str(path))
    assert resolve_data_dir() == tmp_path / "data"
    assert resolve_data_dir(tmp_path / "explicit") == tmp_path / "explicit"
    assert default_registry_root() == tmp_path / "registry"
    assert _resolve_api_key(None) == "file-key"
    assert _resolve_api_key("explicit-key") == "explicit-key"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("data_dri: /typo\n", "data_dri.*allowed: job_store, data_dir, registry_dir"),
        ("- a\n- list\n", "expected a mapping"),
        ("data_dir: [unclosed\n", "cannot read settings file"),
        ("job_store: {not: a path}\n", "job_store"),
    ],
)
def test_a_bad_settings_file_is_a_clear_error(
    clean_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, message: str
) -> None:
    path = _settings_file(tmp_path, text)
    monkeypatch.setenv(CONFIG_FILE_VAR, str(path))
    with pytest.raises(SettingsError, match=message) as err:
        load_settings()
    assert str(path) in str(err.value)


def test_a_named_settings_file_must_exist(
    clean_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CONFIG_FILE_VAR, str(tmp_path / "missing.yaml"))
    with pytest.raises(SettingsError, match=f"missing.yaml \\({CONFIG_FILE_VAR}\\) does not exist"):
        load_settings()


def test_importing_reads_nothing(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess
    import sys

    monkeypatch.setenv(CONFIG_FILE_VAR, "/nonexistent/settings.yaml")
    code = "import hopscreen.settings, hopscreen.data.paths, hopscreen.registry"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr  # a bad file only matters once settings are read
    with pytest.raises(SettingsError):
        load_settings()


LAUNCH_CONFIGS = Path(__file__).resolve().parents[1] / "launch_configs"


def test_the_shipped_templates_are_usable(clean_env: Path) -> None:
    import yaml
    from maggma.stores import GridFSStore, MongoStore

    from hopscreen.store import load_job_store

    settings = load_settings(LAUNCH_CONFIGS / "hopscreen_settings.yaml")
    assert settings.job_store == LAUNCH_CONFIGS / "jobflow.yaml"
    store = load_job_store(settings.job_store)  # parsing touches no server
    assert isinstance(store.docs_store, MongoStore)
    assert isinstance(store.additional_stores["data"], GridFSStore)
    gpu = yaml.safe_load((LAUNCH_CONFIGS / "my_qadapter_gpu.yaml").read_text())
    assert gpu["gres"] == "gpu:1" and "my_fworker_gpu.yaml" in gpu["rocket_launch"]
    for name in ("my_qadapter.yaml", "my_qadapter_gpu.yaml"):
        adapter = yaml.safe_load((LAUNCH_CONFIGS / name).read_text())
        for variable in ("JOBFLOW_CONFIG_FILE", "ATOMATE2_CONFIG_FILE", CONFIG_FILE_VAR):
            assert f"export {variable}=" in adapter["pre_rocket"], (name, variable)
    for name in ("my_fworker_gpu.yaml", "my_fworker_dft.yaml"):  # nothing reads a worker's env
        assert "env" not in yaml.safe_load((LAUNCH_CONFIGS / name).read_text())
