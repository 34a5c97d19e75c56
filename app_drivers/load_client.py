"""A light Streamlit client that speaks the app's own websocket protocol, for load tests and hostile-input tests.

A browser talks to `streamlit run` over one websocket (ws://HOST:PORT/_stcore/stream): it sends BackMsg
protobufs (`rerun_script` with a ClientState: page, widget values, fragment id) and reads ForwardMsg
protobufs (`new_session`, `delta` elements, `script_finished`). This module does the same without a
browser, so 20 simulated users fit on a 2-core machine:

    server = StreamlitServer(port).start()
    session = StreamlitSession(server.url).connect()
    session.open_page("sample")                      # a full run, like loading /sample
    session.set("sample_count", 32)                  # widget values are found by their user key
    result = session.rerun()                         # one request: latency, exceptions, error alerts
    session.drag_pad(dim=0, to=2.5)                  # the latent pad on /latent_sliders, as the browser moves it

Widget ids, types, ranges and fragment ids are read from the element protos the server sends, so the
client follows the pages as they change. A user scenario (`simulate_user`) and the whole load run
(`run_load`) live here too; benchmarks/bench_load.py and tests/test_load.py only call them.
"""

from __future__ import annotations

import http.client
import io
import json
import math
import os
import random
import socket
import statistics
import struct
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import websocket
from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.Common_pb2 import FileUploaderState, UploadedFileInfo
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

REPO = Path(__file__).resolve().parents[1]
APP = REPO / "explorer_app.py"
SERVER_FLAGS = (
    "--server.headless",
    "true",
    "--server.fileWatcherType",
    "none",
    "--browser.gatherUsageStats",
    "false",
)
FINAL_STATUSES = {
    ForwardMsg.FINISHED_SUCCESSFULLY,
    ForwardMsg.FINISHED_WITH_COMPILE_ERROR,
    ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY,
}
PAD_COMPONENT = "latent_pad"  # the custom slider component on /latent_sliders (explorer_ui.latent_pad)


class ClientError(RuntimeError):
    """The server did not answer as a Streamlit server should (timeout, closed socket, missing widget)."""


# ---------------------------------------------------------------- the server


def free_port() -> int:
    """A TCP port that is free right now on localhost."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (from /proc/<pid>/stat), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_bytes(pid: int) -> int:
    """Resident memory of a process (VmRSS from /proc), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise ClientError(f"no VmRSS for pid {pid}")


class StreamlitServer:
    """`streamlit run explorer_app.py` in a subprocess on a chosen port, with the flags a deployment uses."""

    def __init__(
        self,
        port: int | None = None,
        app: Path = APP,
        log_path: Path | None = None,
        extra_args: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
    ) -> None:
        self.env = env or {}
        self.port = port or free_port()
        self.app = app
        self.log_path = log_path
        self.extra_args = extra_args
        self.process: subprocess.Popen | None = None
        self._log = None

    @property
    def url(self) -> str:
        """http://127.0.0.1:PORT"""
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 120.0) -> StreamlitServer:
        """Start the server and wait until /_stcore/health answers ok."""
        self._log = open(self.log_path, "wb") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                str(self.app),
                "--server.port",
                str(self.port),
                *SERVER_FLAGS,
                *self.extra_args,
            ],
            cwd=REPO,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ClientError(
                    f"streamlit exited with status {self.process.returncode} before it was healthy"
                )
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as answer:
                    if answer.read().strip() == b"ok":
                        return self
            except OSError:
                pass
            time.sleep(0.25)
        self.stop()
        raise ClientError(f"streamlit did not become healthy on port {self.port} within {timeout_s:.0f} s")

    def rss(self) -> int:
        """The server's resident memory in bytes."""
        assert self.process is not None
        return rss_bytes(self.process.pid)

    def cpu(self) -> float:
        """CPU seconds the server has used so far."""
        assert self.process is not None
        return cpu_seconds(self.process.pid)

    def stop(self) -> None:
        """Terminate the server (then kill it if it lingers)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._log not in (None, subprocess.DEVNULL):
            self._log.close()

    def __enter__(self) -> StreamlitServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


# ---------------------------------------------------------------- one browser tab


@dataclass
class Widget:
    """A widget the server drew: its id, element type, latest proto, and the fragment it lives in ('' if none)."""

    id: str
    kind: str  # the Element oneof name: "slider", "number_input", "radio", "button", "bidi_component", …
    proto: object
    fragment_id: str


@dataclass
class RunResult:
    """What one request (a full or fragment rerun) produced."""

    latency_s: float
    status: int  # ForwardMsg.ScriptFinishedStatus
    exceptions: list[str] = field(default_factory=list)  # st.exception elements: "Type: message"
    error_alerts: list[str] = field(default_factory=list)  # st.error boxes (expected for refused input)
    elements: int = 0  # new elements drawn
    sidebar_elements: int = 0

    @property
    def ok(self) -> bool:
        """No exception and a normal finish."""
        return not self.exceptions and self.status != ForwardMsg.FINISHED_WITH_COMPILE_ERROR


def user_key(widget_id: str) -> str | None:
    """The user key inside a widget id ('$$ID-<hash>-<key>'), or None for a widget without a key."""
    parts = widget_id.split("-", 2)
    if len(parts) == 3 and parts[0] == "$$ID" and parts[2] != "None":
        return parts[2]
    return None


class StreamlitSession:
    """One simulated browser tab: a websocket session that opens pages, sets widgets and reruns."""

    def __init__(self, base_url: str, timeout_s: float = 120.0) -> None:
        self.ws_url = base_url.replace("http://", "ws://").rstrip("/") + "/_stcore/stream"
        self.timeout_s = timeout_s
        self.ws: websocket.WebSocket | None = None
        self.page = ""
        self.pages: dict[str, str] = {}  # url path → page script hash, from the navigation message
        self.widgets: dict[str, Widget] = {}  # user key → widget drawn in the latest runs
        self.components: dict[str, Widget] = {}  # component name → latest bidi component element
        self.states: dict[str, WidgetState] = {}  # widget id → value this tab holds (sent with every rerun)
        self._triggers: list[WidgetState] = []  # one-shot button presses for the next rerun
        self.session_id = ""
        # called before each thing a person does (a click, a widget change, a drag or a slider release): the
        # paced load mode's pause for looking at the result; None: actions go back to back
        self.before_action: Callable[[], None] | None = None

    def _act(self) -> None:
        """The pause a person takes before their next action (see before_action); not part of any latency."""
        if self.before_action is not None:
            self.before_action()

    # -- connection
    def connect(self) -> StreamlitSession:
        """Open the websocket (the browser's 'streamlit' subprotocol)."""
        self.ws = websocket.create_connection(self.ws_url, subprotocols=["streamlit"], timeout=self.timeout_s)
        return self

    def close(self) -> None:
        """Close the websocket; the server ends the session."""
        if self.ws is not None:
            try:
                self.ws.close()
            finally:
                self.ws = None

    def send(self, message: BackMsg) -> None:
        """Send a raw BackMsg (tests use this for hostile messages)."""
        if self.ws is None:
            raise ClientError("not connected")
        self.ws.send_binary(message.SerializeToString())

    # -- requests
    def open_page(self, url_path: str = "") -> RunResult:
        """Navigate to a page ('' is the default page), as a browser loading /url_path does."""
        self.page = url_path
        self.states = {wid: st for wid, st in self.states.items() if self._is_sidebar_state(wid)}
        return self.rerun()

    def rerun(self, fragment_id: str = "") -> RunResult:
        """Send the current widget values (plus any pending button press) and wait for the run to finish."""
        message = BackMsg()
        client_state = message.rerun_script
        client_state.query_string = ""
        client_state.page_name = self.page
        client_state.page_script_hash = self.pages.get(self.page, "")
        client_state.fragment_id = fragment_id
        for state in [*self.states.values(), *self._triggers]:
            client_state.widget_states.widgets.add().CopyFrom(state)
        self._triggers = []
        started = time.perf_counter()
        self.send(message)
        return self._read_run(started, fragment_id)

    def _read_run(self, started: float, fragment_id: str) -> RunResult:
        """Read ForwardMsgs until the script (or fragment) run finishes; collect what was drawn."""
        result = RunResult(latency_s=0.0, status=-1)
        drawn: dict[str, Widget] = {}
        full_run = not fragment_id
        deadline = time.monotonic() + self.timeout_s
        while True:
            if time.monotonic() > deadline:
                raise ClientError(f"no script_finished within {self.timeout_s:.0f} s")
            try:
                payload = self.ws.recv()
            except (websocket.WebSocketException, OSError) as exc:
                raise ClientError(f"websocket failed: {exc}") from exc
            if not isinstance(payload, bytes):
                raise ClientError(f"server sent a text frame: {payload!r:.80}")
            msg = ForwardMsg()
            msg.ParseFromString(payload)
            kind = msg.WhichOneof("type")
            if kind == "new_session":
                if msg.new_session.HasField("initialize"):
                    self.session_id = msg.new_session.initialize.session_id or self.session_id
                if full_run:
                    drawn = {}
                    self.components = {}
            elif kind == "navigation":
                self.pages = {page.url_pathname: page.page_script_hash for page in msg.navigation.app_pages}
            elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                self._on_element(msg, result, drawn)
            elif kind == "page_not_found":
                result.exceptions.append(f"PageNotFound: {msg.page_not_found.page_name}")
            elif kind == "script_finished" and msg.script_finished in FINAL_STATUSES:
                result.status = msg.script_finished
                result.latency_s = time.perf_counter() - started
                self._after_run(drawn, full_run)
                return result

    def _on_element(self, msg: ForwardMsg, result: RunResult, drawn: dict[str, Widget]) -> None:
        element = msg.delta.new_element
        kind = element.WhichOneof("type")
        result.elements += 1
        if list(msg.metadata.delta_path)[:1] == [1]:
            result.sidebar_elements += 1
        if kind == "exception":
            result.exceptions.append(f"{element.exception.type}: {element.exception.message}")
            return
        if kind == "alert" and element.alert.format == Alert.ERROR:
            result.error_alerts.append(element.alert.body)
            return
        proto = getattr(element, kind)
        widget_id = getattr(proto, "id", "") if kind else ""
        if not widget_id:
            return
        widget = Widget(widget_id, kind, proto, msg.delta.fragment_id)
        if kind == "bidi_component":
            self.components[proto.component_name.rsplit(".", 1)[-1]] = widget
        key = user_key(widget_id)
        if key is not None:
            drawn[key] = widget

    def _after_run(self, drawn: dict[str, Widget], full_run: bool) -> None:
        """Like the browser: keep values only for widgets still on screen."""
        if full_run:
            self.widgets = drawn
        else:
            self.widgets.update(drawn)
        live = {w.id for w in self.widgets.values()} | {w.id for w in self.components.values()}
        self.states = {wid: st for wid, st in self.states.items() if wid in live}

    def _is_sidebar_state(self, widget_id: str) -> bool:
        key = user_key(widget_id)
        return key is not None and key.startswith("sb_")

    # -- widgets
    def widget(self, key: str) -> Widget:
        """The widget with this user key from the latest run (ClientError when the page did not draw it)."""
        try:
            return self.widgets[key]
        except KeyError:
            raise ClientError(f"page {self.page!r} drew no widget with key {key!r}") from None

    def has(self, key: str) -> bool:
        """Whether the latest run drew a widget with this key."""
        return key in self.widgets

    def set(self, key: str, value) -> Widget:
        """Give a widget a new value for the next rerun, encoded as the browser encodes that widget type."""
        widget = self.widget(key)
        state = WidgetState(id=widget.id)
        if widget.kind == "slider":
            values = value if isinstance(value, (list, tuple)) else [value]
            state.double_array_value.data[:] = [float(v) for v in values]
        elif widget.kind == "number_input":
            state.double_value = float(value)
        elif widget.kind in ("radio", "selectbox", "text_input", "text_area"):
            state.string_value = str(value)
        elif widget.kind == "button_group":  # segmented control / pills
            state.string_array_value.data[:] = [str(value)]
        elif widget.kind == "checkbox":
            state.bool_value = bool(value)
        elif widget.kind == "bidi_component":
            state.json_value = json.dumps(value)
        else:
            raise ClientError(f"setting a {widget.kind} is not supported")
        self.states[widget.id] = state
        return widget

    def set_raw(self, state: WidgetState) -> None:
        """Send an arbitrary WidgetState with the next rerun (hostile-input tests)."""
        self.states[state.id] = state

    def click(self, key: str) -> RunResult:
        """Press a button and rerun (its fragment only, when it lives in one)."""
        widget = self.widget(key)
        self._act()
        self._triggers.append(WidgetState(id=widget.id, trigger_value=True))
        return self.rerun(widget.fragment_id)

    def change(self, key: str, value) -> RunResult:
        """Set a widget and rerun, as a browser does when the user lets go of it."""
        self._act()
        widget = self.set(key, value)
        return self.rerun(widget.fragment_id)

    # -- file uploads (the sidebar's uploaders), as the browser sends them
    def upload(self, key: str, name: str, payload: bytes) -> RunResult:
        """Upload `payload` as file `name` into the uploader with this key and rerun (its on_change runs)."""
        widget = self.widget(key)
        message = BackMsg()
        request_id = uuid.uuid4().hex
        message.file_urls_request.request_id = request_id
        message.file_urls_request.file_names.append(name)
        message.file_urls_request.session_id = self.session_id
        self.send(message)
        urls = self._file_urls(request_id)
        self._put_file(urls.upload_url, name, payload)
        info = UploadedFileInfo(name=name, size=len(payload), file_id=urls.file_id)
        info.file_urls.CopyFrom(urls)
        uploader_state = FileUploaderState(uploaded_file_info=[info])
        state = WidgetState(id=widget.id, file_uploader_state_value=uploader_state)
        self.states[widget.id] = state
        return self.rerun(widget.fragment_id)

    def _file_urls(self, request_id: str):
        """Wait for the server's file_urls_response to a request (other messages are skipped)."""
        deadline = time.monotonic() + self.timeout_s
        while time.monotonic() < deadline:
            try:
                payload = self.ws.recv()
            except (websocket.WebSocketException, OSError) as exc:
                raise ClientError(f"websocket failed: {exc}") from exc
            msg = ForwardMsg()
            msg.ParseFromString(payload)
            answer = msg.file_urls_response
            if msg.WhichOneof("type") == "file_urls_response" and answer.response_id == request_id:
                if answer.error_msg or not answer.file_urls:
                    raise ClientError(f"upload refused: {answer.error_msg}")
                return answer.file_urls[0]
        raise ClientError("no file_urls_response")

    def _put_file(self, upload_url: str, name: str, payload: bytes) -> None:
        """PUT one file as multipart form data, with the XSRF token pair a browser tab holds."""
        from streamlit.web.server.starlette.starlette_app_utils import generate_xsrf_token_string

        parsed = urllib.parse.urlparse(self.ws_url)
        path = urllib.parse.urlparse(upload_url).path or upload_url
        token = generate_xsrf_token_string(None, None)
        boundary = uuid.uuid4().hex
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="UploadedFile"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        body = head + payload + f"\r\n--{boundary}--\r\n".encode()
        conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=self.timeout_s)
        try:
            conn.request(
                "PUT",
                path,
                body=body,
                headers={
                    "Content-Type": f"multipart/form-data; boundary={boundary}",
                    "X-Xsrftoken": token,
                    "Cookie": f"_streamlit_xsrf={token}",
                },
            )
            status = conn.getresponse().status
        finally:
            conn.close()
        if status >= 300:
            raise ClientError(f"upload of {name} answered HTTP {status}")

    # -- the latent pad (custom component on /latent_sliders)
    def pad(self) -> tuple[Widget, dict]:
        """The pad element and the data it was drawn with (vector, generation, order, limits, seq)."""
        try:
            widget = self.components[PAD_COMPONENT]
        except KeyError:
            raise ClientError("no latent pad on this page") from None
        return widget, json.loads(widget.proto.json or "{}")

    def drag_pad(
        self, dim: int, to: float, moves: int = 8, rng: random.Random | None = None
    ) -> list[RunResult]:
        """Drag one pad slider to `to` in `moves` messages, one in flight at a time, as pad.js sends them."""
        results = []
        self._act()
        widget, data = self.pad()
        values = list(data["values"])
        start = values[dim]
        seq = int(data.get("seq", 0))
        for i in range(1, moves + 1):
            values[dim] = round(start + (to - start) * i / moves, 2)
            seq += 1
            value = {
                "z": {"generation": data["generation"], "seq": seq, "values": values, "dragging": i < moves}
            }
            self.states[widget.id] = WidgetState(id=widget.id, json_value=json.dumps(value))
            result = self.rerun(widget.fragment_id)
            results.append(result)
            widget, echoed = self.pad()
            if result.ok and echoed.get("seq") != seq:
                result.exceptions.append(f"PadDesync: sent seq {seq}, the pad echoed {echoed.get('seq')}")
        return results + self._pad_strips(values, seq)

    def release_pad(self, dim: int, to: float) -> list[RunResult]:
        """A pad that decodes in the browser: only the released value reaches the server (then the strips)."""
        self._act()
        widget, data = self.pad()
        values = list(data["values"])
        values[dim] = to
        seq = int(data.get("seq", 0)) + 1
        value = {"z": {"generation": data["generation"], "seq": seq, "values": values, "dragging": False}}
        self.states[widget.id] = WidgetState(id=widget.id, json_value=json.dumps(value))
        return [self.rerun(widget.fragment_id), *self._pad_strips(values, seq)]

    def _pad_strips(self, values: list[float], seq: int) -> list[RunResult]:
        """As pad.js: a frame that says its traversal strips are stale is answered by the same values again."""
        widget, echoed = self.pad()
        if not echoed.get("strips_stale"):
            return []
        value = {
            "z": {"generation": echoed["generation"], "seq": seq + 1, "values": values, "dragging": False}
        }
        self.states[widget.id] = WidgetState(id=widget.id, json_value=json.dumps(value))
        return [self.rerun(widget.fragment_id)]


# ---------------------------------------------------------------- what one simulated user does


def _slider_value(widget: Widget, rng: random.Random) -> float:
    """A random value on a slider's grid."""
    proto = widget.proto
    steps = int(round((proto.max - proto.min) / proto.step)) if proto.step else 0
    return proto.min + rng.randint(0, max(steps, 0)) * proto.step


def _number_value(widget: Widget, rng: random.Random, span: float = 2**31 - 1) -> float:
    """A random whole number inside a number input's bounds."""
    proto = widget.proto
    low = proto.min if proto.has_min else 0
    high = proto.max if proto.has_max else span
    return float(rng.randint(int(low), int(min(high, low + span))))


def sliders_actions(session: StreamlitSession, rng: random.Random) -> list[RunResult]:
    """On /latent_sliders: drag two pad sliders, sometimes draw a new random start."""
    results = []
    _, data = session.pad()
    order = data.get("order") or list(range(len(data["values"])))
    limit = float(data.get("limit", 3.0))
    for dim in rng.sample(order[: min(4, len(order))], k=min(2, len(order))):
        results += session.drag_pad(int(dim), round(rng.uniform(-limit, limit), 2), moves=rng.randint(4, 10))
    if rng.random() < 0.3 and session.has("sliders_new_random"):
        results.append(session.click("sliders_new_random"))
    return results


def sample_actions(session: StreamlitSession, rng: random.Random) -> list[RunResult]:
    """On /sample: change the count, the temperature and the seed (or press New seed)."""
    results = [
        session.change("sample_count", _slider_value(session.widget("sample_count"), rng)),
        session.change("sample_temperature", _slider_value(session.widget("sample_temperature"), rng)),
    ]
    if rng.random() < 0.5:
        results.append(session.click("sample_new_seed"))
    else:
        results.append(
            session.change("sample_seed", _number_value(session.widget("sample_seed"), rng, 10**6))
        )
    return results


def interpolate_actions(session: StreamlitSession, rng: random.Random) -> list[RunResult]:
    """On /interpolate: steps, path method, both endpoints by index, then scrub a frame."""
    results = [session.change("interp_steps", _slider_value(session.widget("interp_steps"), rng))]
    method = session.widget("interp_method")
    results.append(session.change("interp_method", rng.choice(list(method.proto.options))))
    for key in ("interp_w_start", "interp_w_end"):
        if session.has(key):
            results.append(session.change(key, _number_value(session.widget(key), rng)))
    if session.has("interp_frame"):
        results.append(session.change("interp_frame", _slider_value(session.widget("interp_frame"), rng)))
    return results


def sliders_actions_browser_decoding(session: StreamlitSession, rng: random.Random) -> list[RunResult]:
    """On /latent_sliders with the browser decoding: two slider releases (no message while dragging), sometimes
    "New random sample"."""
    results = []
    _, data = session.pad()
    order = data.get("order") or list(range(len(data["values"])))
    limit = float(data.get("limit", 3.0))
    for dim in rng.sample(order[: min(4, len(order))], k=min(2, len(order))):
        results += session.release_pad(int(dim), round(rng.uniform(-limit, limit), 2))
    if rng.random() < 0.3 and session.has("sliders_new_random"):
        results.append(session.click("sliders_new_random"))
    return results


SCENARIO = (
    ("latent_sliders", sliders_actions),
    ("sample", sample_actions),
    ("interpolate", interpolate_actions),
)
# the same users when the pad decodes in the browser: only released values and page actions reach the server
SCENARIO_BROWSER_DECODING = (("latent_sliders", sliders_actions_browser_decoding), *SCENARIO[1:])


@dataclass
class UserStats:
    """Counts and latencies of one simulated user."""

    requests: int = 0
    responses: int = 0
    errors: list[str] = field(default_factory=list)
    latencies_s: list[float] = field(default_factory=list)
    fragment_latencies_s: list[float] = field(default_factory=list)  # pad moves: the sliders fragment only
    page_latencies_s: list[float] = field(default_factory=list)  # full runs: page loads and widget changes
    error_alerts: int = 0
    sidebar_missing: int = 0

    def record(self, results: list[RunResult]) -> None:
        for result in results:
            self.requests += 1
            self.responses += 1
            self.latencies_s.append(result.latency_s)
            if result.status == ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY:
                self.fragment_latencies_s.append(result.latency_s)
            else:
                self.page_latencies_s.append(result.latency_s)
            self.errors += result.exceptions
            self.error_alerts += len(result.error_alerts)


def simulate_user(
    base_url: str,
    deadline: float,
    seed: int,
    think_s: tuple[float, float] = (0.2, 0.8),
    stats: UserStats | None = None,
    cycles: int | None = None,
    scenario: tuple = SCENARIO,
    action_think_s: tuple[float, float] | None = None,
) -> UserStats:
    """Visit the sliders, sample and interpolate pages in turn, acting on each, until `deadline` (monotonic)
    or `cycles` full rounds; every failure is counted, never raised. `action_think_s`: a pause before each
    action within a page too (the paced mode); None: a page's actions go back to back."""
    rng = random.Random(seed)
    stats = stats or UserStats()
    session: StreamlitSession | None = None
    rounds = 0
    while time.monotonic() < deadline and (cycles is None or rounds < cycles):
        for page, actions in scenario:
            if time.monotonic() >= deadline:
                break
            try:
                if session is None:
                    session = StreamlitSession(base_url).connect()
                    if action_think_s is not None:
                        session.before_action = lambda: time.sleep(rng.uniform(*action_think_s))
                opened = session.open_page(page)
                stats.record([opened])
                if opened.sidebar_elements == 0:
                    stats.sidebar_missing += 1
                if opened.ok:
                    stats.record(actions(session, rng))
            except ClientError as exc:
                stats.requests += 1
                stats.errors.append(f"{page}: {exc}")
                if session is not None:
                    session.close()
                session = None
            time.sleep(rng.uniform(*think_s))
        rounds += 1
    if session is not None:
        session.close()
    return stats


# ---------------------------------------------------------------- hostile neighbours


def hostile_uploads() -> list[tuple[str, str, bytes]]:
    """(uploader key, file name, bytes) of the worst inputs a student can upload (the bounded-inputs issue).

    Each is small on the wire and was once expensive: a config describing ~10⁸ parameters, a header nested
    200,000 deep, a compressed .npz over the pixel budget, one just under it (accepted, ~250 MB of pixels
    streamed), a zip of PNGs that are tiny on disk and 2048² when decoded, and a zip bomb.
    """
    import numpy as np
    from PIL import Image

    from vae_core.checkpoint import FORMAT

    def safetensors_header(header: bytes) -> bytes:
        return struct.pack("<Q", len(header)) + header

    config = {"input_shape": [3, 64, 64], "arch": "mlp", "latent_dim": 512, "hidden": [4096] * 6}
    metadata = {"__metadata__": {"format": FORMAT, "config": json.dumps(config)}}
    huge = safetensors_header(json.dumps(metadata).encode())
    nested = safetensors_header(b'{"a": ' + b"[" * 200_000 + b"]" * 200_000 + b"}")

    def npz(count: int) -> bytes:
        buffer = io.BytesIO()
        np.savez_compressed(buffer, images=np.zeros((count, 2048, 2048), np.uint8))
        return buffer.getvalue()

    def zipped(files: dict[str, bytes], compression: int) -> bytes:
        import zipfile

        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression) as archive:
            for member, data in files.items():
                archive.writestr(member, data)
        return buffer.getvalue()

    png = io.BytesIO()
    Image.fromarray(np.zeros((2048, 2048), np.uint8)).save(png, format="PNG")
    pngs = {f"a/{i}.png": png.getvalue() for i in range(60)}
    import zipfile

    bomb_buffer = io.BytesIO()  # 576 MiB of zeros in one member, written in chunks (about 0.6 MB on the wire)
    with (
        zipfile.ZipFile(bomb_buffer, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("a/big.png", "w", force_zip64=True) as member,
    ):
        for _ in range(576):
            member.write(bytes(2**20))
    bomb = bomb_buffer.getvalue()
    return [
        ("sb_model_upload", "huge.safetensors", huge),
        ("sb_model_upload", "nested.safetensors", nested),
        ("sb_dataset_upload", "over.npz", npz(70)),
        ("sb_dataset_upload", "heavy.npz", npz(60)),
        ("sb_dataset_upload", "pngs.zip", zipped(pngs, zipfile.ZIP_STORED)),
        ("sb_dataset_upload", "bomb.zip", bomb),
    ]


@dataclass
class HostileStats:
    """What one hostile session did: uploads sent, and runs that crashed instead of showing our message."""

    uploads: int = 0
    uncaught: list[str] = field(default_factory=list)  # exceptions shown on the page (not our errors)
    failures: list[str] = field(default_factory=list)  # protocol failures (timeouts, dropped connections)


def simulate_hostile(
    base_url: str,
    deadline: float,
    seed: int,
    uploads: list[tuple[str, str, bytes]],
    stats: HostileStats,
    think_s: tuple[float, float] = (0.1, 0.3),
) -> HostileStats:
    """Upload the worst inputs in turn until `deadline`; every outcome is counted, never raised."""
    rng = random.Random(seed)
    session: StreamlitSession | None = None
    while time.monotonic() < deadline:
        key, name, payload = uploads[rng.randrange(len(uploads))]
        try:
            if session is None:
                session = StreamlitSession(base_url).connect()
                session.open_page("sample")
            result = session.upload(key, name, payload)
            stats.uploads += 1
            stats.uncaught += result.exceptions
        except ClientError as exc:
            stats.failures.append(f"{name}: {exc}")
            if session is not None:
                session.close()
            session = None
        time.sleep(rng.uniform(*think_s))
    if session is not None:
        session.close()
    return stats


# ---------------------------------------------------------------- the load run


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100), nearest rank; nan for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def run_load(
    sessions: int = 20,
    duration_s: float = 60.0,
    port: int | None = None,
    think_s: tuple[float, float] = (0.2, 0.8),
    log_path: Path | None = None,
    warmup_cycles: int = 1,
    hostile: int = 0,
    uploads: list[tuple[str, str, bytes]] | None = None,
    browser_decoding: bool = False,
    action_think_s: tuple[float, float] | None = None,
) -> dict:
    """Start a server, warm it up (each user does `warmup_cycles` rounds), then run `sessions` users for
    `duration_s` seconds; returns the load figures (requests, errors, latency, server RSS growth).

    With `hostile` > 0, that many extra sessions upload `uploads` (default hostile_uploads()) meanwhile; the
    figures stay those of the well-behaved users, plus load_hostile_uploads/_uncaught/_failures.
    browser_decoding: the users' pads decode in the browser (SCENARIO_BROWSER_DECODING).
    action_think_s: the paced mode, a pause before every action as well (simulate_user); the warm-up is not paced."""
    scenario = SCENARIO_BROWSER_DECODING if browser_decoding else SCENARIO
    if hostile and not uploads:
        uploads = hostile_uploads()  # built before the clock starts (a few seconds of compression)
    with StreamlitServer(port, log_path=log_path) as server:
        first = StreamlitSession(server.url).connect()  # the first run loads torch, the model and the data
        first.open_page("")
        first.close()
        stats = [UserStats() for _ in range(sessions)]
        warm_threads = [
            threading.Thread(
                target=simulate_user,
                daemon=True,
                args=(server.url, time.monotonic() + 600, 1000 + i, (0.0, 0.05)),
                kwargs={"stats": UserStats(), "cycles": warmup_cycles, "scenario": scenario},
            )
            for i in range(sessions)
        ]
        for thread in warm_threads:
            thread.start()
        for thread in warm_threads:
            thread.join()
        rss_warm = server.rss()
        cpu_warm = server.cpu()
        deadline = time.monotonic() + duration_s
        threads = [
            threading.Thread(
                target=simulate_user,
                daemon=True,
                args=(server.url, deadline, i, think_s),
                kwargs={"stats": stats[i], "scenario": scenario, "action_think_s": action_think_s},
            )
            for i in range(sessions)
        ]
        hostile_stats = [HostileStats() for _ in range(hostile)]
        if hostile:
            threads += [
                threading.Thread(
                    target=simulate_hostile,
                    daemon=True,
                    args=(server.url, deadline, 500 + i, uploads, hostile_stats[i]),
                )
                for i in range(hostile)
            ]
        started = time.monotonic()
        rss_peak = rss_warm
        for thread in threads:
            thread.start()
        while any(t.is_alive() for t in threads):
            rss_peak = max(rss_peak, server.rss())
            time.sleep(0.5)
        elapsed = time.monotonic() - started
        rss_end = server.rss()
        server_cpu_s = server.cpu() - cpu_warm
    latencies = [lat for s in stats for lat in s.latencies_s]
    pad_moves = [lat for s in stats for lat in s.fragment_latencies_s]
    page_runs = [lat for s in stats for lat in s.page_latencies_s]
    errors = [e for s in stats for e in s.errors]
    hostile_figures = (
        {}
        if not hostile
        else {
            "load_hostile_sessions": hostile,
            "load_hostile_uploads": sum(h.uploads for h in hostile_stats),
            "load_hostile_uncaught": sum(len(h.uncaught) for h in hostile_stats),
            "load_hostile_failures": sum(len(h.failures) for h in hostile_stats),
            "load_hostile_examples": sorted({e for h in hostile_stats for e in h.uncaught + h.failures})[:5],
        }
    )
    return hostile_figures | {
        "load_sessions": sessions,
        "load_duration_s": round(elapsed, 1),
        "load_requests": sum(s.requests for s in stats),
        "load_errors": len(errors),
        "load_error_examples": sorted(set(errors))[:5],
        "load_sessions_answered": sum(1 for s in stats if s.responses > 0),
        "load_latency_ms_p50": round(1000 * statistics.median(latencies), 1) if latencies else math.nan,
        "load_latency_ms_p95": round(1000 * percentile(latencies, 95), 1),
        "load_latency_ms_max": round(1000 * max(latencies), 1) if latencies else math.nan,
        "load_requests_per_s": round(len(latencies) / elapsed, 1) if elapsed else math.nan,
        "load_pad_move_latency_ms_p50": round(1000 * percentile(pad_moves, 50), 1),
        "load_pad_move_latency_ms_p95": round(1000 * percentile(pad_moves, 95), 1),
        "load_page_run_latency_ms_p50": round(1000 * percentile(page_runs, 50), 1),
        "load_page_run_latency_ms_p95": round(1000 * percentile(page_runs, 95), 1),
        "load_server_cpu_s": round(server_cpu_s, 1),
        "load_server_cpu_ms_per_request": round(1000 * server_cpu_s / max(1, len(latencies)), 1),
        "load_server_cpu_cores_busy": round(server_cpu_s / elapsed, 2) if elapsed else math.nan,
        "load_error_alerts": sum(s.error_alerts for s in stats),
        "load_sidebar_missing": sum(s.sidebar_missing for s in stats),
        "load_rss_warm_mb": round(rss_warm / 2**20, 1),
        "load_rss_peak_mb": round(rss_peak / 2**20, 1),
        "load_rss_end_mb": round(rss_end / 2**20, 1),
        "load_rss_growth_pct": round(100 * (rss_end - rss_warm) / rss_warm, 2),
    }
