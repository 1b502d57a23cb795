"""The control API's cost (bench/run.sh --only control; part of `make bench`).

Issue target: with 10 Server-Sent-Event followers attached (`curl -N .../api/events`, which
read every transcript event as it happens), the SMTP and TCP rates fall by less than 10%.
Each rep measures, interleaved so that drift in the machine's load falls on every variant:

- `none`:  recording on, `--control none` (no control API at all),
- `on`:    recording on, the control API on (the default), nobody attached,
- `sse10`: as `on`, with 10 followers attached for the whole load.

Loads: Postfix's smtp-source (one connection per message, and many messages per connection)
and TCP round trips on 4 parallel connections (bench.py's own client). Each follower's output
is counted afterwards, so a follower that got nothing fails the benchmark instead of flattering
it. Everything runs on loopback and is bounded in count and time.
"""

import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

TARGET_SSE_COST_PCT = 10.0
FOLLOWERS = 10

def cpu_seconds(pid):
    """User+system CPU time of a process so far, from /proc/PID/stat."""
    fields = Path("/proc/%d/stat" % pid).read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def metric(url, name):
    """One unlabelled value of the farm's /metrics."""
    with urllib.request.urlopen(url + "/metrics", timeout=5) as r:
        for line in r.read().decode().splitlines():
            if line.startswith(name + " "):
                return int(line.split()[1])
    return 0


def attach(url, count, out_dir):
    """Starts `count` curl followers; returns them once the farm counts them all."""
    curl = shutil.which("curl") or "/usr/bin/curl"
    procs = []
    for i in range(count):
        out = open(Path(out_dir) / ("sse-%d.txt" % i), "wb")
        procs.append((subprocess.Popen([curl, "-sN", "--max-time", "600", url + "/api/events"],
                                       stdout=out, stderr=subprocess.DEVNULL), out))
    deadline = time.perf_counter() + 10
    while metric(url, "protofarm_sse_clients") < count:
        if time.perf_counter() > deadline:
            detach(procs)
            raise RuntimeError("the SSE followers did not all attach within 10 s")
        time.sleep(0.05)  # polling the farm's own count: waiting on readiness
    return procs


def caught_up(url, out_dir, deadline_s=20):
    """Waits until every follower has the farm's last event (they must keep up, not just be
    attached); raises when one has not within the deadline."""
    last = b"id: %d\n" % metric(url, "protofarm_events_total")
    deadline = time.perf_counter() + deadline_s
    files = sorted(Path(out_dir).glob("sse-*.txt"))
    while not all(last in f.read_bytes() for f in files):
        if time.perf_counter() > deadline:
            raise RuntimeError("the SSE followers did not receive every event within %ss"
                               % deadline_s)
        time.sleep(0.05)  # polling their output: waiting on readiness


def detach(procs):
    for proc, out in procs:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        out.close()


def events_received(out_dir):
    counts = []
    for f in sorted(Path(out_dir).glob("sse-*.txt")):
        counts.append(sum(1 for line in f.read_bytes().splitlines() if line.startswith(b"id: ")))
    return counts


def run(binary, tmp, report, results, quick, Farm, median, smtp_source, round_trips_parallel,
        mail_scenario_text, echo_scenario_text):
    reps = 2 if quick else 5
    messages = 100 if quick else 1000
    par_conns, par_each = 4, (250 if quick else 2500)
    source = shutil.which("smtp-source") or "/usr/sbin/smtp-source"
    have_source = Path(source).exists()
    loads = ["tcp_parallel"] + (["smtp_per_message", "smtp_per_connection"] if have_source else [])
    variants = ("none", "on", "sse10")
    rates = {load: {v: [] for v in variants} for load in loads}
    # The farm's CPU time per operation: what the followers cost the server itself, apart from
    # the CPU their own processes take from a 2-core machine's clients and server.
    cpu_us = {load: {v: [] for v in variants} for load in loads}
    received = []
    mail_scenario = Path(tmp) / "control-mail.yaml"
    mail_scenario.write_text(mail_scenario_text)
    echo_scenario = Path(tmp) / "control-echo.yaml"
    echo_scenario.write_text(echo_scenario_text)
    for rep in range(reps):
        order = list(variants) if rep % 2 == 0 else list(reversed(variants))
        for variant in order:
            run_dir = Path(tmp) / ("control-%d-%s" % (rep, variant))
            run_dir.mkdir()
            extra = ["--control", "none"] if variant == "none" else []
            for load in loads:
                scenario = echo_scenario if load == "tcp_parallel" else mail_scenario
                sub = run_dir / load
                sub.mkdir()
                with Farm(binary, scenario, sub / "transcripts", sub / "ready.json",
                          extra) as farm:
                    followers = []
                    if variant == "sse10":
                        followers = attach(farm.ready()["control"]["url"], FOLLOWERS, sub)
                    try:
                        cpu0 = cpu_seconds(farm.pid)
                        if load == "tcp_parallel":
                            rate = round_trips_parallel(farm.address("echo"), par_conns, par_each)
                            ops = par_conns * par_each
                        else:
                            _, port = farm.address("mail")
                            rate = smtp_source(source, port, messages,
                                               load == "smtp_per_connection", 1000)
                            ops = messages
                        if followers:
                            caught_up(farm.ready()["control"]["url"], sub)
                        cpu_us[load][variant].append((cpu_seconds(farm.pid) - cpu0) / ops * 1e6)
                    finally:
                        detach(followers)
                    rates[load][variant].append(rate)
                if variant == "sse10":
                    got = events_received(sub)
                    received.append({"load": load, "events": got})
                    if not got or min(got) == 0:
                        raise RuntimeError("an SSE follower received no event during " + load)
            shutil.rmtree(run_dir, ignore_errors=True)

    results["control"] = {"reps": reps, "messages": messages, "followers": FOLLOWERS,
                          "rates": rates, "server_cpu_us_per_op": cpu_us,
                          "followers_received": received}
    labels = {"tcp_parallel": "tcp round trips/s, %d connections" % par_conns,
              "smtp_per_message": "smtp msgs/s, 1 connection per message",
              "smtp_per_connection": "smtp msgs/s, %d messages per connection" % messages}
    for load in loads:
        none, on, sse = (median(rates[load][v]) for v in variants)
        api_cost = (1 - on / none) * 100
        sse_cost = (1 - sse / on) * 100
        results["control"][load] = {"none": none, "on": on, "sse10": sse,
                                    "api_cost_pct": api_cost, "sse_cost_pct": sse_cost}
        report.add("%s, --control none" % labels[load], none, "/s")
        report.add("%s, control API on" % labels[load], on, "/s",
                   note="cost of the API itself %.1f%%" % api_cost)
        report.add("%s, %d SSE followers" % (labels[load], FOLLOWERS), sse, "/s")
        cpu_on, cpu_sse = median(cpu_us[load]["on"]), median(cpu_us[load]["sse10"])
        results["control"][load]["server_cpu_cost_pct"] = (cpu_sse / cpu_on - 1) * 100
        report.add("server CPU per op, %s: API on / %d followers" % (labels[load], FOLLOWERS),
                   cpu_sse / cpu_on, "x",
                   note="%.1f / %.1f us (includes serving every event to each follower)"
                   % (cpu_on, cpu_sse))
        report.add("SSE followers' cost, %s" % labels[load], sse_cost, "%",
                   "< %g %%" % TARGET_SSE_COST_PCT, sse_cost < TARGET_SSE_COST_PCT,
                   "min-max with followers %.0f-%.0f/s" % (min(rates[load]["sse10"]),
                                                           max(rates[load]["sse10"])))
    if not have_source:
        report.skip("SSE followers' cost, smtp",
                    "smtp-source is not installed (tools/install-deps.sh bench)")

