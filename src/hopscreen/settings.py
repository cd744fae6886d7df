"""Site settings: where this installation keeps its job store, data, model registry and MP key.

Only values that describe the *site* live here, never scientific parameters (thresholds, model
options, NEB settings are explicit config objects; a setting here never changes a result).
They are read by :func:`load_settings`, lazily, each time a caller needs one, in this order
(later wins):

1. the defaults below;
2. the settings file: ``$HOPSCREEN_CONFIG_FILE`` if set, else
   ``~/.config/hopscreen/settings.yaml`` if it exists (a YAML mapping of the field names;
   relative paths in it are relative to the file's folder);
3. environment variables ``HOPSCREEN_<FIELD>`` (``HOPSCREEN_DATA_DIR``, ``HOPSCREEN_JOB_STORE``,
   ``HOPSCREEN_REGISTRY_DIR``, ``HOPSCREEN_MP_API_KEY``; ``MP_API_KEY``, the name mp-api users
   know, is read too, after ``HOPSCREEN_MP_API_KEY``). Empty variables count as unset.

Callers with an explicit value (a command-line option, a function argument) use it before
any setting.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

CONFIG_FILE_VAR = "HOPSCREEN_CONFIG_FILE"
"""Environment variable naming the settings file."""

DEFAULT_CONFIG_FILE = Path("~/.config/hopscreen/settings.yaml")
"""The settings file read when ``HOPSCREEN_CONFIG_FILE`` is not set (if it exists)."""

PATH_FIELDS = ("job_store", "data_dir", "registry_dir")


class SettingsError(ValueError):
    """The settings file is unreadable or a setting is invalid (the message says which)."""


class HopscreenSettings(BaseSettings):
    """The site settings of hopscreen (see the module docstring for where they come from).

    Keyword arguments are the settings file's layer: ``HOPSCREEN_*`` environment variables
    override them. Use :func:`load_settings` rather than constructing this directly.
    """

    model_config = SettingsConfigDict(
        env_prefix="HOPSCREEN_", extra="forbid", env_ignore_empty=True, frozen=True
    )

    job_store: Path | None = Field(
        None,
        description="A jobflow.yaml-style file whose JOB_STORE (a MongoStore, GridFSStore or "
        "any maggma store, with a 'data' additional store) holds the job documents and the "
        "results collections of a round. None: the results folder's embedded MontyStore.",
    )
    data_dir: Path | None = Field(
        None, description="Folder of the published datasets. None: the user cache folder."
    )
    registry_dir: Path | None = Field(
        None, description="Model registry folder. None: the per-user data folder."
    )
    mp_api_key: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("HOPSCREEN_MP_API_KEY", "MP_API_KEY", "mp_api_key"),
        description="Materials Project API key (also read from MP_API_KEY).",
    )

    @field_validator(*PATH_FIELDS, mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        """Strip path values; blank means unset; ``~`` is expanded."""
        if isinstance(value, str | Path):
            text = str(value).strip()
            return Path(text).expanduser() if text else None
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Environment variables first, then the keyword arguments (the file's values)."""
        return (env_settings, init_settings)


def settings_file() -> Path | None:
    """The settings file to read: ``$HOPSCREEN_CONFIG_FILE``, else the default if it exists.

    Raises
    ------
    SettingsError
        If ``HOPSCREEN_CONFIG_FILE`` names a file that does not exist.

    """
    named = os.environ.get(CONFIG_FILE_VAR, "").strip()
    if named:
        path = Path(named).expanduser()
        if not path.is_file():
            raise SettingsError(f"settings file {path} ({CONFIG_FILE_VAR}) does not exist")
        return path
    default = DEFAULT_CONFIG_FILE.expanduser()
    return default if default.is_file() else None


def read_settings_file(path: str | Path) -> dict[str, Any]:
    """The values of a settings file, relative paths resolved against the file's folder.

    Raises
    ------
    SettingsError
        If the file cannot be read or is not a YAML mapping.

    """
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise SettingsError(f"cannot read settings file {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise SettingsError(f"settings file {path}: expected a mapping of settings at the top")
    for name in PATH_FIELDS:
        value = data.get(name)
        if isinstance(value, str) and value.strip():
            full = Path(value.strip()).expanduser()
            data[name] = str(full if full.is_absolute() else path.parent / full)
    return data


def load_settings(config_file: str | Path | None = None) -> HopscreenSettings:
    """The site settings: the settings file, overridden by ``HOPSCREEN_*`` variables.

    Parameters
    ----------
    config_file : str or Path, optional
        Settings file to read instead of :func:`settings_file`'s choice.

    Returns
    -------
    HopscreenSettings
        Read now (nothing is cached: a changed variable is seen by the next call).

    Raises
    ------
    SettingsError
        If the file is unreadable, has unknown keys, or a value is invalid; the message names
        the file and the allowed keys.

    """
    path = Path(config_file).expanduser() if config_file is not None else settings_file()
    values = read_settings_file(path) if path is not None else {}
    origin = f"settings file {path} or HOPSCREEN_* variables" if path else "HOPSCREEN_* variables"
    try:
        return HopscreenSettings(**values)
    except ValidationError as exc:
        allowed = ", ".join(HopscreenSettings.model_fields)
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}"
            for err in exc.errors()
        )
        raise SettingsError(
            f"invalid settings ({origin}): {problems} (allowed: {allowed})"
        ) from exc
