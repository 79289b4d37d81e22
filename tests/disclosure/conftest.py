"""Fixtures for the disclosure tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from govreq.demo import platform as demo_platform

ENTRY_POINTS = """[govreq.data_sources]
careless = tests.disclosure.careless_source:CarelessSource
"""


@pytest.fixture
def careless_source(platform: Path, settings: Any, tmp_path: Path, monkeypatch: Any) -> Path:
    """Install tests.disclosure.careless_source as a third-party plug-in (a distribution on
    sys.path with an entry point in govreq.data_sources) and configure it over the test
    platform; returns the configuration file."""
    site = tmp_path / "site"
    dist = site / "govreq_careless_source-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: govreq-careless-source\nVersion: 1.0\n"
    )
    (dist / "entry_points.txt").write_text(ENTRY_POINTS)
    monkeypatch.syspath_prepend(str(site))
    config = Path(settings.DATA_SOURCE_CONFIG).read_text(encoding="utf-8")
    config = config.replace('source = "sql"', 'source = "careless"').replace("[sql", "[careless")
    path = platform.parent / "careless.toml"
    path.write_text(config, encoding="utf-8")
    settings.DATA_SOURCE_CONFIG = path
    assert demo_platform.DATABASE_NAME in config
    return path
