#!/usr/bin/env bash
# `make compat`: the fast tests on the newest patch of every supported Airflow line, each in a
# throwaway venv (uv; its cache makes every install after the first a matter of seconds), with
# pytest-xdist on every core; then a version x result table. Exits non-zero if any cell fails,
# or if a Python a cell needs is missing (on PATH or from pyenv). .ci/run runs it.
#
# The cells, and why each is there:
#   3.1 on Python 3.10: the oldest Airflow on the oldest Python; 3.1 lacks airflow.sdk's conf and
#       task exceptions, Connection.aextra_dejson and amask_secret (all of _compat's fallbacks).
#   3.2 on Python 3.12: the middle line (has the SDK names, still lacks amask_secret).
#   3.3 on Python 3.13: the newest Airflow on the newest Python.
#   3.3 on Python 3.10: the resolver picks common-compat 1.20 there (the newest for 3.10), which
#       lacks get_async_extra_dejson, on the newest Airflow.
# The main .venv (make test) is one more cell: the Airflow and Python it has.
set -euo pipefail
cd "$(dirname "$0")/.."

UV=${UV:-.venv/bin/uv}
# airflow-version@python@extra requirements (comma-separated). Airflow's own code breaks with
# some newer releases of its dependencies; its constraints files pin them, and so do these cells.
# cryptography 51 made MultiFernet a Rust object that takes no new attribute, and 3.1's and 3.2's
# get_fernet sets one (is_encrypted): every connection read through an env var then fails.
CELLS=${COMPAT_CELLS:-"3.1.*@3.10@structlog<25.5,cryptography<51 3.2.*@3.12@svcs<26,fastapi<0.137,cryptography<51 3.3.*@3.13@ 3.3.*@3.10@"}
# Every module imported, the hook, operators, sensor and trigger driven against mocked HTTP,
# the sensor in a DAG run of each mode, the example DAGs parsed, the asset aliases in what the
# DAG processor reads (mapped tasks' through Airflow's own partial). The slow whole-DAG, sandbox
# and real-Airflow tests stay in make test.
TESTS=(tests/test_compat.py tests/test_provider_info.py tests/hooks
    tests/operators/test_create_operator.py tests/operators/test_start_stop_delete.py
    tests/operators/test_payload.py tests/sensors/test_campaign_sensor.py tests/sensors/test_sensor_dag.py
    tests/triggers/test_trigger.py tests/triggers/test_async_hook.py tests/triggers/test_wait.py
    tests/example_dags/test_dagbag.py tests/test_asset_aliases.py
    # How many modules a DAG file pulls in is measured on the Airflow of make test: 3.1's Task SDK
    # loads core's DAG model on the first DAG, which is Airflow's weight, not this package's.
    --deselect tests/example_dags/test_dagbag.py::test_examples_import_cheaply_without_io_or_deprecations)

find_python() {  # an interpreter of a minor version that runs: on PATH, else pyenv's newest
    local minor=$1 candidate
    for candidate in "$(command -v "python$minor" || true)" \
        $(ls -d "${PYENV_ROOT:-$HOME/.pyenv}/versions/$minor".*/bin/python 2>/dev/null | sort -rV); do
        if [[ -n $candidate ]] && "$candidate" -c pass 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

versions_of() {  # "airflow|python|common-compat" of an interpreter
    "$1" -c 'import sys
from importlib.metadata import version as v
print(v("apache-airflow"), "%d.%d.%d" % sys.version_info[:3], v("apache-airflow-providers-common-compat"), sep="|")'
}

summary_of() {  # pytest's last counts line; xdist workers may log after it
    { grep -E '[0-9]+ (passed|failed|errors?|skipped)' "$1" || tail -n 1 "$1"; } | tail -n 1 | tr -d '=' | xargs
}

work=$(mktemp -d -t kore-compat-XXXXXX)
trap 'rm -rf "$work"' EXIT
rows=()
failed=0
read -r -a cells <<<"$CELLS"  # split on spaces, no globbing of the *s
for cell in "${cells[@]}"; do
    IFS=@ read -r airflow minor pins <<<"$cell"
    IFS=, read -r -a pins <<<"$pins"
    venv="$work/venv"
    start=$SECONDS
    if ! python=$(find_python "$minor"); then
        rows+=("$airflow|-|$minor|-|FAILED: no Python $minor found|0")
        failed=1
        continue
    fi
    echo "== apache-airflow==$airflow on Python $minor ${pins[*]:+(with ${pins[*]})}"
    if ! { "$UV" venv --quiet --python "$python" "$venv" &&
        "$UV" pip install --quiet --python "$venv/bin/python" "apache-airflow==$airflow" "${pins[@]}" -e '.[test]'; }; then
        rows+=("$airflow|-|$minor|-|FAILED: install|$((SECONDS - start))")
        failed=1
        rm -rf "$venv"
        continue
    fi
    found=$(versions_of "$venv/bin/python")
    log="$work/pytest.log"
    if "$venv/bin/python" -m pytest -q -p no:cacheprovider -n auto --dist loadfile "${TESTS[@]}" >"$log" 2>&1; then
        result="passed: $(summary_of "$log")"
    else
        result="FAILED: $(summary_of "$log")"
        failed=1
        grep -E '^(FAILED|ERROR) ' "$log" || tail -n 40 "$log"
    fi
    echo "   $result in $((SECONDS - start)) s"
    rows+=("$airflow|$found|$result|$((SECONDS - start))")
    rm -rf "$venv"
done

main=$(versions_of .venv/bin/python)
echo
echo "| asked for | Airflow | Python | common-compat | fast tests | seconds |"
echo "| --- | --- | --- | --- | --- | --- |"
for row in "${rows[@]}"; do echo "| ${row//|/ | } |"; done
echo "| .venv | ${main//|/ | } | make test | - |"
exit $failed
