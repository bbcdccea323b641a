"""Drives the real ClearML SDK as a user does: Task.init, the task's Logger reporting every kind
of event, then the task's own read-back methods. The SDK's host (api, web and files) comes from
the environment (CLEARML_API_HOST, ...), set by the test to its fake ClearML server, which
forwards events.* and auth.login to Trackstream.

The test talks to this script over file descriptor 3 (one JSON document per line) and stdin, so
that the SDK's own console output never mixes in:
  1. after reporting and flushing: {"phase": "reported", "task": ..., "reported": {...}};
  2. the script then waits for a line on stdin (the test has seen the events stored);
  3. {"phase": "read", "results": {method: {"value": ...} | {"error": ...}}}, then the task closes.

Usage: clearml_task.py <project name> <task name>
"""
import json
import logging
import os
import sys
import time
import traceback

import numpy as np
from clearml import Task

ITERATIONS = 20
CONSOLE_LINES = 6
IMAGE_ITERATIONS = 3

protocol = os.fdopen(3, "w")


def tell(message):
    protocol.write(json.dumps(message) + "\n")
    protocol.flush()


project_name, task_name = sys.argv[1], sys.argv[2]
# The script as the task's code, without asking git about the repository it sits in (the SDK's
# background repository detection may take minutes on a busy checkout, and the task waits for it
# when it closes).
Task.force_store_standalone_script()
task = Task.init(
    project_name=project_name,
    task_name=task_name,
    reuse_last_task_id=False,
    # Nothing but what this script reports: no framework hooks, no resource monitor (its own
    # scalars), no console capture (the SDK's messages would join the log at times of its own).
    auto_connect_frameworks=False,
    auto_connect_arg_parser=False,
    auto_resource_monitoring=False,
    auto_connect_streams=False,
)
logger = task.get_logger()
reported = {"scalars": [], "console": [], "images": [], "plots": [], "single_values": {}}

for i in range(ITERATIONS):
    for metric, variant, value in (
        ("loss", "train", 1.0 / (i + 1)),
        ("loss", "val", 2.0 / (i + 2) + 0.01),
        ("accuracy", "val", i / ITERATIONS),
    ):
        logger.report_scalar(metric, variant, value=value, iteration=i)
        reported["scalars"].append({"metric": metric, "variant": variant, "iter": i, "value": value})
    # Each point its own millisecond, so the time axes have one point per report.
    time.sleep(0.003)

for name, value in (("best_accuracy", 0.93), ("epochs", ITERATIONS)):
    logger.report_single_value(name, value)
    reported["single_values"][name] = value

for j in range(CONSOLE_LINES):
    msg = f"console line {j}"
    # The SDK merges consecutive lines of one level sent within a second into one log event;
    # alternating levels keeps one event per line.
    logger.report_text(msg, level=logging.WARNING if j % 2 else logging.INFO, print_console=False)
    reported["console"].append(msg)
    time.sleep(0.003)

for i in range(IMAGE_ITERATIONS):
    logger.report_image("samples", "digits", iteration=i, image=np.full((8, 8, 3), 40 * i, dtype=np.uint8))
    reported["images"].append({"metric": "samples", "variant": "digits", "iter": i})
logger.report_image("samples", "noise", iteration=1, image=np.full((4, 4, 3), 7, dtype=np.uint8))
reported["images"].append({"metric": "samples", "variant": "noise", "iter": 1})

for i in range(2):
    logger.report_plotly("plotly", "curve", iteration=i, figure={"data": [{"type": "scatter", "x": [1, 2, 3], "y": [i, i + 1, i + 4]}], "layout": {"title": f"curve {i}"}})
    reported["plots"].append({"metric": "plotly", "variant": "curve", "iter": i})
logger.report_table("table", "rows", iteration=1, table_plot=[["name", "score"], ["a", 1], ["b", 2]])
reported["plots"].append({"metric": "table", "variant": "rows", "iter": 1})
logger.report_scatter2d("scatter", "points", iteration=2, scatter=[[0, 1], [1, 3], [2, 2]], mode="markers")
reported["plots"].append({"metric": "scatter", "variant": "points", "iter": 2})
logger.report_histogram("histogram", "weights", iteration=0, values=[3, 1, 4, 1, 5])
reported["plots"].append({"metric": "histogram", "variant": "weights", "iter": 0})

task.flush(wait_for_uploads=True)
tell({"phase": "reported", "task": task.id, "project": task.project, "reported": reported})

if sys.stdin.readline().strip() != "read":
    sys.exit("expected 'read' on stdin")

results = {}


def read(name, fn):
    try:
        results[name] = {"value": fn()}
    except Exception as e:  # noqa: BLE001 - reported to the test, which shows it
        results[name] = {"error": f"{type(e).__name__}: {e}", "trace": traceback.format_exc(limit=3)}


# The console first: a read-back that fails logs its error to the task's console itself.
read("get_reported_console_output", lambda: list(task.get_reported_console_output(3)))
read("get_reported_scalars", lambda: task.get_reported_scalars())
read("get_reported_scalars_timestamp", lambda: task.get_reported_scalars(x_axis="timestamp"))
read("get_reported_scalars_iso_time", lambda: task.get_reported_scalars(x_axis="iso_time"))
read("get_reported_scalars_max_samples", lambda: task.get_reported_scalars(max_samples=5))
read("get_all_reported_scalars", lambda: task.get_all_reported_scalars())
read("get_debug_samples", lambda: task.get_debug_samples("samples", "digits"))
read("get_reported_plots", lambda: task.get_reported_plots())
read("get_reported_single_values", lambda: task.get_reported_single_values())
read("get_last_scalar_metrics", lambda: task.get_last_scalar_metrics())

tell({"phase": "read", "results": results})
task.close()
