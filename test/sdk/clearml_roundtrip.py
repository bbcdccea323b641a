"""Drives the real ClearML SDK (its API session and request classes, as Task and Logger use
them) against a Trackstream base URL and prints what it got back, as one JSON document."""
import json
import math
import os
import sys
import time

os.environ.setdefault("CLEARML_API_ACCESS_KEY", "placeholder")
os.environ.setdefault("CLEARML_API_SECRET_KEY", "placeholder")
os.environ["CLEARML_API_HOST"] = sys.argv[1]
os.environ["CLEARML_WEB_HOST"] = sys.argv[1]
os.environ["CLEARML_FILES_HOST"] = sys.argv[1]
task = sys.argv[2]

from clearml.backend_api.session import Session  # noqa: E402
from clearml.backend_api.services import events  # noqa: E402

session = Session()
out = {"api_version": Session.api_version}

batch = [
    events.MetricsScalarEvent(task=task, iter=i, metric="loss", variant="train", value=(math.nan if i == 3 else 1.0 / (i + 1)))
    for i in range(10)
]
batch.append(events.MetricsVectorEvent(task=task, iter=1, metric="hist", variant="w", values=[1.0, 2.0, 3.0]))
batch.append(events.MetricsImageEvent(task=task, iter=2, metric="img", variant="sample", key="k", url="http://files/x.png"))
batch.append(events.MetricsPlotEvent(task=task, iter=2, metric="roc", variant="auc", plot_str='{"data": []}'))
batch.append(events.TaskLogEvent(task=task, msg="hello from the sdk", level="warning"))
res = session.send(events.AddBatchRequest(requests=[events.AddRequest(e) for e in batch]))
out["add_batch"] = res.response_data

deadline = time.time() + 30
while time.time() < deadline:
    log = session.send(events.GetTaskLogRequest(task=task)).response_data
    latest = session.send(events.GetTaskLatestScalarValuesRequest(task=task)).response_data
    if log["events"] and latest["metrics"] and latest["last_iter"] == 9:
        break
    time.sleep(0.3)
out["log"] = log
out["latest"] = latest
out["histogram"] = session.send(events.ScalarMetricsIterHistogramRequest(task=task)).response_data
# The SDK's request classes for these follow a later API shape; the 2.1 ones go as raw requests
# through the same session (same transport, headers and token).
out["images"] = session.send_request("events", "debug_images", version="2.1", json={"task": task}).json()["data"]
out["plots"] = session.send_request("events", "get_task_plots", version="2.1", json={"task": task}).json()["data"]
# Task.get_debug_samples' request, as Task._send_debug_image_request builds it (the current shape).
out["debug_samples"] = session.send(events.DebugImagesRequest([{"task": task, "metric": "img", "variants": ["sample"]}], iters=3, scroll_id=None)).response_data
out["vector_metrics"] = session.send(events.GetVectorMetricsAndVariantsRequest(task=task)).response_data
# allow_nan: the SDK's NaN comes back as NaN, which plain JSON can't carry; the test reads it as a string.
print(json.dumps(out, default=str).replace("NaN", '"NaN"'))
