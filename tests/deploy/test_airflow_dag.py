"""The Airflow DAG example parses and says what the README promises, checked without installing Airflow."""

from __future__ import annotations

import ast

from acq_spark import PROJECT_ROOT

DAG_FILE = PROJECT_ROOT / "deploy" / "airflow" / "acq_nightly_dag.py"


def calls(tree: ast.AST, name: str) -> list[ast.Call]:
    """Every call of ``name`` (a plain name) in ``tree``."""
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == name]


def keywords(call: ast.Call) -> dict[str, ast.expr]:
    return {k.arg: k.value for k in call.keywords}


def constant(tree: ast.Module, name: str) -> object:
    """The literal value assigned to the module-level ``name``."""
    (value,) = [n.value for n in tree.body if isinstance(n, ast.Assign) and ast.unparse(n.targets[0]) == name]
    return ast.literal_eval(value)


def test_the_dag_runs_the_nightly_once_a_night_one_run_at_a_time():
    tree = ast.parse(DAG_FILE.read_text(), filename=str(DAG_FILE))
    (dag,) = calls(tree, "DAG")
    args = keywords(dag)
    assert ast.literal_eval(args["max_active_runs"]) == 1
    assert ast.literal_eval(args["catchup"]) is False
    assert ast.literal_eval(args["dag_id"]) == "acq_nightly"
    assert len(ast.literal_eval(args["schedule"]).split()) == 5  # a cron line: once a day
    assert "start_date" in args
    (task,) = calls(tree, "BashOperator")  # one task
    assert ast.unparse(keywords(task)["bash_command"]) == "NIGHTLY"
    command = constant(tree, "NIGHTLY")
    assert "-m acq_spark.cluster submit" in command and " nightly " in command
    assert "--set run_date={{ data_interval_end | ds }}" in command  # the decision day from the data interval
    assert (PROJECT_ROOT / "jobs" / "nightly.py").is_file()
