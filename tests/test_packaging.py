"""The distribution's metadata: licence (PEP 639), classifiers, a name free of the unrelated "archiver"."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def test_license_is_a_pep639_expression_with_its_file():
    assert PROJECT["license"] == "Apache-2.0"  # a string (SPDX expression), not the deprecated table
    assert PROJECT["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text  # the whole licence, not a pointer to it
    # PEP 639: a licence expression and licence classifiers exclude each other.
    assert not [c for c in PROJECT["classifiers"] if c.startswith("License ::")]


def test_classifiers_and_python_versions_agree():
    classifiers = PROJECT["classifiers"]
    assert "Topic :: System :: Archiving" in classifiers
    assert PROJECT["requires-python"] == ">=3.11"
    versions = [c.rsplit(" ", 1)[1] for c in classifiers if c.startswith("Programming Language :: Python :: 3.")]
    assert versions and min(versions, key=lambda v: tuple(map(int, v.split(".")))) == "3.11"


def test_distribution_name_differs_but_the_command_is_archiver():
    assert PROJECT["name"] == "provenance-archiver"
    assert PROJECT["scripts"] == {"archiver": "archiver.cli:main"}
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "pipx install provenance-archiver" in readme
    assert "pip install provenance-archiver" in readme
    assert "pip install 'archiver[" not in readme  # the old name would install the unrelated project
