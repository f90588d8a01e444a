"""Load test: dashboard pages with 50 concurrent users on 127.0.0.1 (issue 8).

    .venv/bin/python bench/dashboard_load.py                      # 50 users, 30 s
    .venv/bin/python bench/dashboard_load.py --users 20 --seconds 10
    .venv/bin/python bench/dashboard_load.py --workdir /tmp/x --keep   # keep the demo to rerun
    .venv/bin/python bench/dashboard_load.py --profile            # also profile one request

It makes a temporary folder (``ACCORD_DATA_DIR``: its own SQLite database, key store, vault
and master key), loads the demo there with ``accord demo --no-serve`` (a few minutes on a busy
machine) and starts the server as ``accord demo`` does, ``accord serve`` (waitress, 8
threads, with the task worker beside it, which compiles the care home collection and makes
the demo's output "Care home status by area"). The organisation's daily limit of output
queries is lifted for the run (``ACCORD_OUTPUT_DAILY_QUERY_LIMIT``): every page view below is
logged as a query.

Two personas sign in through the real sign-in pages, password then the authenticator's code
(read from the demo's device, as ``accord demo code`` prints it): the combined authority
analyst (``analyst@gmca.demo.accord.test``, who owns the dashboard) and a contributor
(``officer@medway.demo.accord.test``). Each code signs in once, so the sign-in is done once
per persona and the ``--users`` threads share those two signed-in sessions (half each), each
thread with its own HTTP connection: users of one organisation, not one user. Analyst threads
fetch the dashboard; contributor threads alternate the dashboard and "Returned to you"
(``/returned/``), for ``--seconds`` after a short warm-up, back to back (a closed loop: with
no pause the latency is the number of users over the throughput) or with ``--think`` seconds'
pause on average between a user's pages.

Reported: requests, errors (non-200 or a page without the figures), requests/s, and
p50/p95/p99 latency per page and overall, against the goal (issue 8): p95 < 300 ms with 50
concurrent users. The client threads run on the same two cores as the server, so they take
some of its CPU. No assertions: this prints figures (bench/README.md).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
ACCORD = str(Path(sys.executable).with_name("accord"))
ANALYST = "analyst@gmca.demo.accord.test"
CONTRIBUTOR = "officer@medway.demo.accord.test"
PASSWORD = "bench-Load-test-2026!"  # noqa: S105 (a throwaway demo password)
GOAL_P95_MS = 300.0
MARKER = 'id="output-as-of"'  # the dashboard shows figures


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def environment(folder: Path) -> dict[str, str]:
    env = dict(os.environ)
    for name in list(env):
        if name.startswith("ACCORD_") or name == "DATABASE_URL":
            del env[name]
    env.update(
        {
            "ACCORD_ENV": "demo",
            "ACCORD_DATA_DIR": str(folder / "data"),
            "ACCORD_DEMO_PASSWORD": PASSWORD,
            "ACCORD_OUTPUT_DAILY_QUERY_LIMIT": str(10**9),
            "ACCORD_LOCKOUT_FAILURES": "1000",
            "DJANGO_SETTINGS_MODULE": "accord.config.settings",
        }
    )
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def code_for(username: str, env: dict[str, str]) -> str:
    """The persona's current sign-in code, as ``accord demo code`` prints it; waits for the
    next one if this one was used."""
    while True:
        done = subprocess.run(  # noqa: S603 - our own command, fixed arguments
            [ACCORD, "demo", "code", username],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        if "already used" not in done.stderr:
            return done.stdout.strip()
        time.sleep(5)


def sign_in(base: str, username: str, env: dict[str, str]) -> requests.Session:
    session = requests.Session()

    def post(url: str, data: dict[str, str]) -> requests.Response:
        page = session.get(url, timeout=60)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert token, f"no form at {url}"
        data = {"csrfmiddlewaretoken": token.group(1), **data}
        return session.post(page.url, data=data, headers={"Referer": page.url}, timeout=60)

    answer = post(f"{base}/sign-in/", {"username": username, "password": PASSWORD})
    if "/sign-in/code/" in answer.url:
        answer = post(f"{base}/sign-in/code/", {"code": code_for(username, env)})
    if "/sign-in" in answer.url:
        raise RuntimeError(f"{username} could not sign in: ended at {answer.url}")
    return session


def wait_for_server(base: str, server: subprocess.Popen[bytes], seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("the server stopped")
        try:
            requests.get(f"{base}/sign-in/", timeout=5)
            return
        except requests.ConnectionError:
            time.sleep(0.5)
    raise RuntimeError("the server did not start")


def wait_for_output(session: requests.Session, base: str, seconds: float = 900) -> str:
    """The dashboard's address, once the worker has made the output."""
    deadline = time.monotonic() + seconds
    url = ""
    while time.monotonic() < deadline:
        if not url:
            listing = session.get(f"{base}/outputs/", timeout=60).text
            found = re.search(r'href="(/outputs/[0-9a-f-]{36}/)"', listing)
            url = f"{base}{found.group(1)}" if found else ""
        if url and MARKER in session.get(url, timeout=60).text:
            return url
        time.sleep(3)
    raise RuntimeError("the demo output was not made in time")


class Results:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = {}
        self.errors: dict[str, list[str]] = {}

    def add(self, page: str, seconds: float, error: str = "") -> None:
        with self.lock:
            self.times.setdefault(page, []).append(seconds)
            if error:
                self.errors.setdefault(page, []).append(error)


def user(
    session: requests.Session,
    pages: list[tuple[str, str, str]],
    start: float,
    warm_until: float,
    stop: float,
    results: Results,
    think: float = 0.0,
) -> None:
    """Fetch ``pages`` (name, url, text the page must have) in turn until ``stop``, recording
    those that start after ``warm_until``."""
    own = requests.Session()
    own.cookies.update(session.cookies)
    while time.monotonic() < start:
        time.sleep(0.001)
    i = 0
    while True:
        began = time.monotonic()
        if began >= stop:
            return
        name, url, marker = pages[i % len(pages)]
        i += 1
        error = ""
        try:
            answer = own.get(url, timeout=60, allow_redirects=False)
            if answer.status_code != 200:
                error = f"HTTP {answer.status_code}"
            elif marker not in answer.text:
                error = "page without its figures"
        except requests.RequestException as exc:
            error = type(exc).__name__
        took = time.monotonic() - began
        if began >= warm_until:
            results.add(name, took, error)
        if think:
            time.sleep(random.uniform(0, 2 * think))  # noqa: S311 - pacing, not security


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def report(results: Results, seconds: float, users: int) -> None:
    everything = [t for times in results.times.values() for t in times]
    print(
        f"\n{users} users for {seconds:.0f} s (after warm-up); load average {_load()}\n"
        f"{'page':<12} {'requests':>9} {'errors':>7} {'req/s':>7} "
        f"{'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}"
    )
    rows = [*sorted(results.times.items()), ("all", everything)]
    for page, times in rows:
        errors = (
            sum(len(e) for e in results.errors.values())
            if page == "all"
            else len(results.errors.get(page, []))
        )
        if not times:
            continue
        print(
            f"{page:<12} {len(times):>9,} {errors:>7,} {len(times) / seconds:>7.1f} "
            f"{1000 * statistics.median(times):>8.0f} {1000 * percentile(times, 95):>8.0f} "
            f"{1000 * percentile(times, 99):>8.0f} {1000 * max(times):>8.0f}"
        )
    for page, errors in results.errors.items():
        kinds = {e: errors.count(e) for e in set(errors)}
        print(f"errors on {page}: {kinds}")
    if everything:
        p95 = 1000 * percentile(everything, 95)
        if p95 < GOAL_P95_MS:
            verdict = f"{GOAL_P95_MS / p95:.1f}x under the {GOAL_P95_MS:.0f} ms target: met"
        else:
            verdict = f"{p95 / GOAL_P95_MS:.1f}x over the {GOAL_P95_MS:.0f} ms target: NOT met"
        print(f"p95 {p95:.0f} ms with {users} concurrent users, {verdict}.")


def profile_one(env: dict[str, str], url_path: str, username: str) -> None:
    """cProfile one dashboard request through Django's test client, in a child process with
    the same settings, and print where the time goes."""
    code = f"""
import cProfile, pstats, time, django
django.setup()
from django.test import Client
from accord.organisations.models import User
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp import DEVICE_ID_SESSION_KEY
user = User.objects.get(username={username!r})
client = Client(HTTP_HOST="127.0.0.1")
client.force_login(user)
device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
if device is not None:
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
for _ in range(3):
    client.get({url_path!r})
times = []
for _ in range(10):
    t = time.perf_counter(); r = client.get({url_path!r}); times.append(time.perf_counter() - t)
median = round(sorted(times)[5] * 1000)
print("status", r.status_code, "; test client, 10 requests: median", median, "ms")
profiler = cProfile.Profile()
profiler.enable()
for _ in range(5):
    client.get({url_path!r})
profiler.disable()
stats = pstats.Stats(profiler)
stats.sort_stats("cumulative").print_stats(
    "views/outputs.py|outputs/queries.py|decisions.py:.*decide|parquet.py:.*read_frame"
    "|render_to_string|_fetch_all|log_query",
    30,
)
"""
    subprocess.run(  # noqa: S603 - our own code, fixed arguments
        [sys.executable, "-c", code], env=env, cwd=ROOT, check=False
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--warm-up", type=float, default=3)
    parser.add_argument("--threads", type=int, default=8, help="server threads (accord serve's)")
    parser.add_argument(
        "--think", type=float, default=0.0, help="mean pause between a user's pages (s)"
    )
    parser.add_argument("--workdir", help="use (and reuse) this folder instead of a temp one")
    parser.add_argument("--keep", action="store_true", help="keep the folder afterwards")
    parser.add_argument("--profile", action="store_true", help="cProfile one dashboard request")
    args = parser.parse_args()

    folder = Path(args.workdir or tempfile.mkdtemp(prefix="accord-bench-load-"))
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    env = environment(folder)
    server: subprocess.Popen[bytes] | None = None
    try:
        if not (folder / "demo-loaded").exists():
            print(f"Loading the demo into {folder} (load {_load()})...", flush=True)
            started = time.monotonic()
            subprocess.run(  # noqa: S603 - our own command, fixed arguments
                [ACCORD, "demo", "--no-serve"],
                env=env,
                cwd=ROOT,
                check=True,
                stdout=subprocess.DEVNULL,
            )
            (folder / "demo-loaded").touch()
            print(f"  loaded in {time.monotonic() - started:.0f} s", flush=True)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log = (folder / "server.log").open("ab")
        server = subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
            [ACCORD, "serve", "--port", str(port), "--threads", str(args.threads)],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=log,
        )
        wait_for_server(base, server)
        analyst = sign_in(base, ANALYST, env)
        print(f"Server at {base}; waiting for the output to be made...", flush=True)
        dashboard = wait_for_output(analyst, base)
        contributor = sign_in(base, CONTRIBUTOR, env)
        returned = contributor.get(f"{base}/returned/", timeout=60)
        seen = contributor.get(dashboard, timeout=60)
        print(
            f"dashboard {dashboard} ({len(analyst.get(dashboard).content) / 1e3:.0f} kB); "
            f"/returned/ {returned.status_code} ({len(returned.content) / 1e3:.0f} kB); "
            f"contributor's dashboard {seen.status_code}",
            flush=True,
        )
        pages_analyst = [("dashboard", dashboard, MARKER)]
        pages_contributor = [
            ("dashboard", dashboard, MARKER),
            ("returned", f"{base}/returned/", "returned-benchmarks-"),
        ]
        results = Results()
        start = time.monotonic() + 1.0
        warm_until = start + args.warm_up
        stop = warm_until + args.seconds
        threads = [
            threading.Thread(
                target=user,
                args=(
                    analyst if n % 2 == 0 else contributor,
                    pages_analyst if n % 2 == 0 else pages_contributor,
                    start,
                    warm_until,
                    stop,
                    results,
                    args.think,
                ),
                daemon=True,
            )
            for n in range(args.users)
        ]
        print(
            f"{args.users} users ({(args.users + 1) // 2} analyst, {args.users // 2} "
            f"contributor), {args.warm_up:.0f} s warm-up then {args.seconds:.0f} s; "
            f"server threads {args.threads}; think time {args.think:.1f} s; load {_load()}",
            flush=True,
        )
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        report(results, args.seconds, args.users)
        if args.profile:
            print("\nProfile of one dashboard request (test client, same database):", flush=True)
            profile_one(env, dashboard.removeprefix(base), ANALYST)
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        if not args.keep and not args.workdir:
            shutil.rmtree(folder, ignore_errors=True)
        elif args.keep or args.workdir:
            print(f"kept {folder}")


if __name__ == "__main__":
    main()
