"""The documentation site builds with `mkdocs build --strict`, and its references cover every
command of the CLI and every operation of the API (both generated at build time by
docs/hooks.py; these tests walk the real Typer app and the real OpenAPI document, then look for
each item in the built HTML)."""

from __future__ import annotations

import html
import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from openpcf.api.app import create_app
from openpcf.cli import app as cli_app

REPO = Path(__file__).resolve().parents[1]


def _mkdocs_available() -> bool:
    try:
        import material  # noqa: F401
        import mkdocs  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not _mkdocs_available():
        pytest.skip("mkdocs and mkdocs-material are not installed: pip install -e '.[docs]'")
    out = tmp_path_factory.mktemp("site")
    run = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, f"mkdocs build --strict failed:\n{run.stdout}\n{run.stderr}"
    return out


def _sections(page: Path) -> dict[str, str]:
    """Each heading's id → the HTML from that heading up to the next heading of any level."""
    text = page.read_text(encoding="utf-8")
    parts = re.split(r'(?=<h[1-6] id=")', text)
    found = {}
    for part in parts:
        m = re.match(r'<h[1-6] id="([^"]+)"', part)
        if m:
            found[m.group(1)] = part
    return found


def _text(fragment: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", fragment)))


def _plain(markdown: str) -> str:
    """Text as rendered: without code-span backticks and emphasis, whitespace collapsed."""
    return re.sub(r"\s+", " ", markdown.replace("`", "").replace("**", "")).strip()


def _heading(section: str) -> str:
    return _text(section.split("</h", 1)[0]).replace("\u00b6", "").strip()


def _commands() -> list[tuple[list[str], object]]:
    found: list[tuple[list[str], object]] = []

    def walk(command: object, path: list[str]) -> None:
        found.append((path, command))
        for name, sub in sorted((getattr(command, "commands", None) or {}).items()):
            if not getattr(sub, "hidden", False):
                walk(sub, [*path, name])

    walk(typer.main.get_command(cli_app), ["openpcf"])
    return found


def test_every_command_and_its_options_are_in_the_cli_reference(site: Path) -> None:
    sections = _sections(site / "reference" / "cli" / "index.html")
    commands = _commands()
    # The tree is what the walk says it is: a sample of commands known to exist today.
    names = {" ".join(path) for path, _ in commands}
    assert {"openpcf calc", "openpcf db import", "openpcf monitor run", "openpcf serve"} <= names
    for path, command in commands:
        anchor = "-".join(path)
        assert anchor in sections, f"`{' '.join(path)}` has no section in the CLI reference"
        text = _text(sections[anchor])
        assert " ".join(path) in text
        for param in command.params:
            if getattr(param, "hidden", False):
                continue
            for flag in [*param.opts, *param.secondary_opts]:
                if flag.startswith("-"):
                    assert flag in text, f"`{' '.join(path)}` lacks option {flag} in the reference"
        if command.help:
            first_line = command.help.strip().splitlines()[0].strip()
            assert _plain(first_line) in text


def test_every_api_operation_is_in_the_api_reference(site: Path) -> None:
    page = site / "reference" / "api" / "index.html"
    sections = _sections(page)
    document = create_app().openapi()
    operations = [
        (method.upper(), path, op)
        for path, item in document["paths"].items()
        for method, op in item.items()
    ]
    assert len(operations) > 50  # the app has ~60 operations; an empty document would pass below
    by_heading = {_heading(s): s for s in sections.values()}
    for method, path, op in operations:
        section = by_heading.get(f"{method} {path}")
        assert section is not None, f"{method} {path} has no section in the API reference"
        text = _text(section)
        if op.get("summary"):
            assert _plain(op["summary"]) in text
        for param in op.get("parameters", []):
            assert param["name"] in text, f"{method} {path} lacks parameter {param['name']}"


def test_the_openapi_document_is_published_with_the_site(site: Path) -> None:
    import json

    published = json.loads((site / "openapi.json").read_text(encoding="utf-8"))
    assert published["paths"].keys() == create_app().openapi()["paths"].keys()


def test_the_readme_is_short_and_keeps_the_quick_start_commands() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 200
    assert "pip install -q -e . && .venv/bin/openpcf serve --demo" in readme
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    test_command = next(line for line in ci.splitlines() if "pytest" in line and "pip" in line)
    assert test_command.strip() in readme, "the README's test command must be the one CI runs"


def test_every_openpcf_variable_read_by_the_code_is_documented() -> None:
    source = "\n".join(
        p.read_text(encoding="utf-8") for p in (REPO / "src" / "openpcf").rglob("*.py")
    )
    used = set(re.findall(r"OPENPCF_[A-Z0-9_]+", source))
    page = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    missing = sorted(v for v in used if f"`{v}`" not in page)
    assert not missing, f"not in docs/configuration.md: {missing}"


def _pages() -> list[Path]:
    return sorted((REPO / "docs").rglob("*.md"))


def test_code_the_pages_name_exists() -> None:
    """Paths under src/openpcf and dotted names like `openpcf.services.x.y` in the pages resolve,
    so a module moved without its documentation fails here."""
    import importlib

    missing = []
    for page in _pages():
        text = page.read_text(encoding="utf-8")
        for path in set(re.findall(r"`(src/openpcf/[^`\s]*)`", text)):
            if not list(REPO.glob(path.rstrip("/"))):
                missing.append(f"{page.name}: {path}")
        for dotted in set(re.findall(r"`(openpcf(?:\.[a-z_]+)+)", text)):
            if dotted.endswith(".db"):  # the SQLite file name, not a module
                continue
            parts = dotted.split(".")
            for cut in range(len(parts), 0, -1):
                try:
                    obj = importlib.import_module(".".join(parts[:cut]))
                except ImportError:
                    continue
                try:
                    for attr in parts[cut:]:
                        obj = getattr(obj, attr)
                except AttributeError:
                    missing.append(f"{page.name}: {dotted}")
                break
            else:
                missing.append(f"{page.name}: {dotted}")
    assert not missing, f"the docs name code that does not exist: {missing}"


def test_the_concepts_page_names_every_package() -> None:
    concepts = (REPO / "docs" / "concepts.md").read_text(encoding="utf-8")
    src = REPO / "src" / "openpcf"
    packages = [p.name for p in src.iterdir() if (p / "__init__.py").is_file()]
    services = [p.name for p in (src / "services").iterdir() if (p / "__init__.py").is_file()]
    missing = [f"{name}/" for name in packages if f"`{name}/`" not in concepts]
    missing += [f"services/{n}/" for n in services if f"`services/{n}/`" not in concepts]
    assert not missing, f"docs/concepts.md does not describe: {missing}"


def test_pages_left_out_of_the_nav_are_listed_under_more(tmp_path: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("docs_hooks", REPO / "docs" / "hooks.py")
    assert spec is not None and spec.loader is not None
    hooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hooks)
    for name in ("index.md", "guide/a.md", "security.md", "_partial/x.md"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("# x\n", encoding="utf-8")
    config = {"docs_dir": str(tmp_path), "nav": [{"Home": "index.md"}, {"G": ["guide/a.md"]}]}
    hooks.on_config(config)
    assert config["nav"][-1] == {"More": ["security.md"]}
