"""README.md names every architecture and every dataset of the registries, where it lists them."""
import re
from pathlib import Path

from tfsnn.data import DATASETS
from tfsnn.models import ARCHS

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def _block(start: str, end: str) -> str:
    """README's text from the line starting with ``start`` to the next ``end``."""
    at = README.index(start)
    return README[at:README.index(end, at + len(start))]


def _named(text: str) -> set[str]:
    return set(re.findall(r"`([A-Za-z0-9_]+)`", text))


def test_architectures_paragraph_names_every_architecture():
    paragraph = _block("\nArchitectures: ", "\n\n")
    missing = [a for a in ARCHS if a not in _named(paragraph)]
    assert not missing, f"README.md's 'Architectures:' paragraph misses tfsnn.models.ARCHS {missing}"


def test_datasets_table_names_every_dataset_and_no_other():
    rows = [line.split("|") for line in _block("### Datasets", "\n#").splitlines() if line.startswith("| `")]
    assert rows, "README.md's '### Datasets' section has no table of datasets"
    # columns: dataset | files read | conversion | smoke stand-in
    named = {n for row in rows for n in _named(row[1]) | _named(row[4])}
    missing = [d for d in DATASETS if d not in named]
    assert not missing, f"README.md's datasets table misses tfsnn.data.DATASETS {missing}"
    unknown = sorted(named - set(DATASETS))
    assert not unknown, f"README.md's datasets table names {unknown}, which tfsnn.data.DATASETS does not hold"
