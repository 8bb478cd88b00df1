"""Table 7: the server's resident size (VmRSS from /proc/PID/status) after 10,000 tasks.

The readings come from the servers of tables 3 and 4 (taken right after their loads, before
they stop); this module adds an empty server as the baseline and renders them all.
"""

from .harness import Context, Table


def _mb(kb: int) -> str:
    return f"{kb / 1024:.1f}"


def run(ctx: Context) -> Table:
    with ctx.server("memory-baseline") as server:
        baseline = server.memory()
    readings = [("fresh server, no workspace", baseline), *ctx.memory]
    table = Table(
        7, "Server memory",
        ["server state", "VmRSS MB", "VmHWM (peak) MB", "SQLite files MB"],
        caption="Resident size of the TaskRouter process from `/proc/PID/status`; SQLite = the database plus its WAL.",
    )
    for label, reading in readings:
        table.rows.append([label, _mb(reading["VmRSS"]), _mb(reading["VmHWM"]), f"{reading['db_bytes'] / 2**20:.1f}"])
    if not ctx.memory:
        table.notes.append("Only the baseline: tables 3 and 4, which load the servers, were not run.")
    if ctx.cfg.profile_dir:
        table.notes.append("Servers ran under cProfile: sizes include the profiler's own data.")
    return table
