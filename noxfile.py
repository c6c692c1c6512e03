"""The test matrix: the same pytest suite once per Keras backend, plus cross-backend and lint.

nox                         everything below (what CI runs)
nox -s "tests(jax)"         one backend; add `-- -m "not slow"` for the quick subset
nox -s "tests(torch)" -- -m full    the long runs that the default leaves out
nox -s crossbackend         all three backends in one environment: save/load and parity
nox -s lint                 ruff
"""

import nox

nox.options.sessions = ["lint", "tests", "crossbackend"]
nox.options.error_on_missing_interpreters = True

# Backend name (KERAS_BACKEND) -> the package extra that installs it.
BACKENDS = {"jax": "jax", "torch": "torch", "tensorflow": "tensorflow-cpu"}
CONSTRAINTS = ("-c", "constraints.txt")


@nox.session
@nox.parametrize("backend", list(BACKENDS), ids=list(BACKENDS))
def tests(session, backend):
    """Run the pytest suite with KERAS_BACKEND=<backend>."""
    session.install(*CONSTRAINTS, "-e", f".[test,{BACKENDS[backend]}]")
    args = session.posargs if "-m" in session.posargs else ["-m", "not full", *session.posargs]
    session.run("pytest", *args, env={"KERAS_BACKEND": backend})


@nox.session
def crossbackend(session):
    """Models saved under each backend load under each other with the same numbers."""
    session.install(*CONSTRAINTS, "-e", f".[test,{','.join(BACKENDS.values())}]")
    session.run("pytest", "--cross-backend", *session.posargs, env={"KERAS_BACKEND": "jax"})


@nox.session
def compare(session):
    """The main job: parity of every layer across the three backends, then the speed
    comparison (speech workload, a few minutes; `nox -s compare -- --full` adds the
    paper-scale kapre workload and the experiments); writes reports/compare.{md,json,png}."""
    session.install(*CONSTRAINTS, "-e", f".[test,bench,{','.join(BACKENDS.values())}]")
    session.run("audiofront", "compare", "--out", "reports", *session.posargs)


@nox.session
def peers(session):
    """Kapre in its own environment (it pins keras<3.14 and tensorflow<=2.20): its timings
    go to reports/peers-<workload>/ and `compare` merges them."""
    session.install(
        "-e", ".[tools]", "kapre==0.4.1", "keras<3.14", "tensorflow-cpu<=2.20", "librosa"
    )
    for workload in ("kapre", "speech"):
        session.run(
            "audiofront",
            "bench",
            "--backends",
            "tensorflow",
            "--workload",
            workload,
            "--no-compile",
            "--out",
            f"reports/peers-{workload}",
            *session.posargs,
        )


@nox.session
def lint(session):
    """ruff: style, imports, and no keras.src (see pyproject.toml)."""
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
