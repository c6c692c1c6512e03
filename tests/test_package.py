"""Package shape: public names, the library apart from the tools, no import cycles, no long
functions, layers written against Keras only, runnable docstring examples."""

import ast
import doctest
import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import audiofront
from audiofront.catalog import LAYERS

SOURCE = Path(audiofront.__file__).parent
ROOT = SOURCE.parents[1]
MODULES = sorted(
    m.name for m in pkgutil.walk_packages([str(SOURCE)], "audiofront.") if "__main__" not in m.name
)


@pytest.mark.parametrize("name", list(LAYERS))
def test_layers_importable_from_package_and_layers_module(name):
    assert getattr(audiofront, name) is getattr(audiofront.layers, name)
    assert name in audiofront.__all__ and name in audiofront.layers.__all__


def test_the_layer_list_is_the_catalog():
    assert audiofront.layers.__all__ == list(LAYERS)
    assert [n for n in audiofront.__all__ if n[0].isupper()] == list(LAYERS)


def imports_of(path):
    """Every module named by an import statement in ``path``, inside functions too."""
    tree = ast.parse(path.read_text())
    package = ".".join(path.relative_to(SOURCE.parent).with_suffix("").parts[:-1])
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            for alias in node.names:  # `from audiofront import filters` imports a module
                submodule = f"{base}.{alias.name}"
                yield submodule if module_path(submodule) is not None else base


def module_path(name):
    relative = Path(*name.split("."))
    for candidate in (
        SOURCE.parent / relative.with_suffix(".py"),
        SOURCE.parent / relative / "__init__.py",
    ):
        if candidate.exists():
            return candidate
    return None


def import_graph():
    graph = {}
    for name in MODULES + ["audiofront"]:
        targets = {t for t in imports_of(module_path(name)) if module_path(t) is not None}
        graph[name] = targets - {name}
    return graph


def test_no_import_cycles_including_imports_inside_functions():
    graph = import_graph()
    state, cycles = {}, []

    def visit(node, stack):
        state[node] = "open"
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                cycles.append(stack[stack.index(target) :] + [target])
            elif target not in state:
                visit(target, stack + [target])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert not cycles, cycles


def test_library_never_imports_the_tools():
    graph = import_graph()
    library = [m for m in graph if not m.startswith(("audiofront.tools", "audiofront.testing"))]
    for module in library:
        assert not any(t.startswith("audiofront.tools") for t in graph[module]), module


def functions(path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node.name, node.lineno, node.end_lineno - node.lineno + 1


def test_no_function_over_100_lines():
    files = [
        *SOURCE.rglob("*.py"),
        *(ROOT / "tests").rglob("*.py"),
        *(ROOT / "examples").rglob("*.py"),
    ]
    long = [
        f"{path.relative_to(ROOT)}:{line} {name} ({length} lines)"
        for path in files
        for name, line, length in functions(path)
        if length > 100
    ]
    assert not long, long


LIBRARY_FILES = sorted(SOURCE.glob("layers/*.py")) + [
    SOURCE / f"{name}.py"
    for name in (
        "functional",
        "initializers",
        "dispatch",
        "validation",
        "filters",
        "catalog",
        "streaming",
    )
]


@pytest.mark.parametrize("path", LIBRARY_FILES, ids=lambda p: p.name)
def test_library_uses_keras_only(path):
    """Layer code is written against keras.ops: no backend imports, no keras.src."""
    for module in imports_of(path):
        root = module.split(".")[0]
        assert root not in {"torch", "jax", "jaxlib", "tensorflow"}, f"{path.name} imports {module}"
        assert not module.startswith("keras.src"), f"{path.name} imports {module}"


def run_python(code):
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_import_audiofront_loads_no_tooling():
    """Beyond what Keras itself loads, `import audiofront` loads its library modules only."""
    run_python(
        "import sys, keras\n"
        "before = set(sys.modules)\n"
        "import audiofront\n"
        "tooling = ('audiofront.tools', 'audiofront.testing', 'rich', 'matplotlib', 'scipy')\n"
        "bad = sorted(m for m in set(sys.modules) - before if m.startswith(tooling))\n"
        "sys.exit(f'imported {bad}' if bad else 0)\n"
    )


def test_numpy_side_works_without_keras():
    """With Keras unavailable, the numpy modules and the tools' data side import and work,
    no backend is loaded, and asking for a layer says what is missing."""
    run_python(
        "import sys\n"
        "sys.modules['keras'] = None  # `import keras` now raises ImportError\n"
        "import audiofront, audiofront.filters, audiofront.validation, audiofront.catalog\n"
        "from audiofront.tools import signals, datasets, reference\n"
        "assert audiofront.filters.mel_filterbank(8000, 256, n_mels=20).shape == (20, 129)\n"
        "assert signals.make_input('chirp', batch=1, seconds=0.1)[0].shape == (1, 1600)\n"
        "try:\n"
        "    audiofront.MelSpectrogram\n"
        "except ImportError as error:\n"
        "    assert 'KERAS_BACKEND' in str(error)\n"
        "else:\n"
        "    sys.exit('no ImportError')\n"
        "bad = [m for m in ('jax', 'torch', 'tensorflow') if m in sys.modules]\n"
        "sys.exit(f'imported {bad}' if bad else 0)\n"
    )


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


def test_layout_page_matches_the_tree():
    """Every module and folder of the package is named in docs/development.md's layout
    block, and every .py or folder name the block gives under src/audiofront exists."""
    import re

    page = (ROOT / "docs" / "development.md").read_text()
    block = page.split("## Layout", 1)[1].split("```", 2)[1]
    named = set(re.findall(r"([\w.]+(?:\.py|/))", block))
    tree = {
        p.name + ("/" if p.is_dir() else "")
        for folder in (SOURCE, SOURCE / "tools")
        for p in folder.iterdir()
        if p.name != "__pycache__" and (p.is_dir() or p.suffix == ".py")
    }
    tree -= {"__main__.py"}
    missing = sorted(tree - named)
    assert not missing, f"not in the layout of docs/development.md: {missing}"
    stale = sorted(
        n
        for n in named
        if n.endswith(".py")
        and not any(
            path.name == n for path in [*SOURCE.rglob(n), *ROOT.glob(f"*/{n}"), *ROOT.glob(n)]
        )
    )
    assert not stale, f"named in the layout of docs/development.md but absent: {stale}"


def test_readme_links_every_docs_page_and_each_exists():
    import re

    readme = (ROOT / "README.md").read_text()
    linked = set(re.findall(r"\]\((docs/[\w.-]+\.md)\)", readme))
    pages = {f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md")}
    assert linked == pages


def test_readme_example_builds_and_compiles():
    """The README's example, as written, builds its model under this backend."""
    readme = (ROOT / "README.md").read_text()
    code = readme.split("## Example", 1)[1].split("```python", 1)[1].split("```", 1)[0]
    namespace = {}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 - our own README
    model = namespace["model"]
    assert model.output_shape == (None, 10)
    assert len(code.strip().splitlines()) <= 20
