"""The output folder used safely (issue 14 items 3, 9-11): checks before any work, the
run lock, provider sets replaced whole, private folders for raw data."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from kpitools.errors import PackError
from kpitools.io.workspace import (
    KERNEL_PREFIX,
    LOCK_FILE,
    check_output_folder,
    check_provider_places,
    private_folder,
    replace_folder,
    run_lock,
    staging_folder,
    tidy_period_folder,
    waiting_lock,
)


def run_python(code: str, *args: str) -> subprocess.Popen:
    """A child Python running ``code`` (the test then signals or kills it)."""
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(predicate, what: str, seconds: float = 30) -> None:  # noqa: ANN001 - test helper
    """Poll until ``predicate()`` holds; a generous ceiling, not a timing assertion."""
    end = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError(f"gave up waiting: {what}")
        time.sleep(0.05)


# --- output folder checks ------------------------------------------------------------


def test_output_folder_is_created_and_returned_resolved(tmp_path):
    assert (
        check_output_folder(tmp_path / "out" / "2023-03")
        == (tmp_path / "out" / "2023-03").resolve()
    )


@pytest.mark.parametrize("where", ["itself", "above"])
def test_output_folder_that_is_a_file_is_one_line(tmp_path, where):
    (tmp_path / "out").write_text("not a folder")
    folder = tmp_path / "out" if where == "itself" else tmp_path / "out" / "2023-03"
    with pytest.raises(PackError) as info:
        check_output_folder(folder)
    assert info.value.one_line() == (
        f"{folder}: output folder: {tmp_path / 'out'} is a file, not a folder; give a folder"
    )


@pytest.mark.parametrize("system", ["/proc/kpitools-out", "/sys/out", "/dev/shm/../out"])
def test_output_folder_under_proc_sys_or_dev_is_refused(system):
    with pytest.raises(
        PackError, match=r"output folder is under /(proc|sys|dev), which is no place for files"
    ):
        check_output_folder(system)


def test_output_folder_inside_or_equal_to_the_input_is_refused(tmp_path):
    data = tmp_path / "data" / "2023-03"
    data.mkdir(parents=True)
    for folder in (data, data / "P001" / "out"):
        with pytest.raises(
            PackError, match=r"output folder is inside the input folder .*inputs are read-only"
        ):
            check_output_folder(folder, inputs=[data])
    check_output_folder(tmp_path / "out" / "2023-03", inputs=[data])  # beside it is fine


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write into a read-only folder")
def test_read_only_output_folder_is_refused(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir(mode=0o500)
    with pytest.raises(PackError, match="cannot write to the output folder: Permission denied"):
        check_output_folder(folder)


def test_unwritable_output_folder_is_refused_with_the_system_reason(tmp_path, monkeypatch):
    # as root a read-only folder is writable, so the refusal of the system is simulated
    def no_space(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202 - test double
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tempfile, "TemporaryFile", no_space)
    with pytest.raises(
        PackError, match="cannot write to the output folder: No space left on device"
    ):
        check_output_folder(tmp_path / "out")


# --- run lock -------------------------------------------------------------------------


def test_second_run_is_told_who_holds_the_lock(tmp_path):
    with run_lock(tmp_path):
        record = json.loads((tmp_path / LOCK_FILE).read_text())
        assert record["pid"] == os.getpid() and record["host"] == socket.gethostname()
        with pytest.raises(PackError) as info, run_lock(tmp_path):
            pass
    message = info.value.one_line()
    assert message.startswith(
        f"{tmp_path}: another kpitools run is writing this folder "
        f"(pid {os.getpid()} on {socket.gethostname()}, started 20"
    )
    with run_lock(tmp_path):  # released when the first run ended
        pass


def test_a_killed_run_leaves_no_lock(tmp_path):
    holder = run_python(
        """
        import sys, time
        from pathlib import Path
        from kpitools.io.workspace import run_lock
        with run_lock(Path(sys.argv[1])):
            print("locked", flush=True)
            time.sleep(120)
    """,
        str(tmp_path),
    )
    assert holder.stdout.readline().strip() == "locked"
    with pytest.raises(PackError, match=f"pid {holder.pid} on"), run_lock(tmp_path):
        pass
    holder.kill()
    holder.wait()
    with run_lock(tmp_path):
        pass


# --- a provider's outputs replaced as a set --------------------------------------------


def test_new_set_replaces_the_old_whole(tmp_path):
    final = tmp_path / "P001"
    final.mkdir()
    (final / "audit_pack.html").write_text("old pack")
    (final / "only_in_old_run.csv").write_text("x")
    staging = staging_folder(final)
    assert staging.name == ".building-P001"
    (staging / "audit_pack.html").write_text("new pack")
    replace_folder(staging, final)
    assert sorted(p.name for p in final.iterdir()) == ["audit_pack.html"]
    assert (final / "audit_pack.html").read_text() == "new pack"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["P001"]


def test_tidy_puts_back_an_old_set_moved_aside_and_drops_half_built_ones(tmp_path):
    # a run killed between the two renames: P001's old set is aside, its new one staged
    (tmp_path / ".replaced-P001").mkdir()
    (tmp_path / ".replaced-P001" / "manifest.json").write_text("old")
    (tmp_path / ".building-P001").mkdir()
    (tmp_path / ".building-P001" / "kpi_results.csv").write_text("half")
    # P002 was replaced; only the old copy's deletion was cut short
    (tmp_path / "P002").mkdir()
    (tmp_path / ".replaced-P002").mkdir()
    tidy_period_folder(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["P001", "P002"]
    assert (tmp_path / "P001" / "manifest.json").read_text() == "old"


# --- private folder for raw data ------------------------------------------------------


def test_private_folder_is_owner_only_and_removed(tmp_path):
    with private_folder() as folder:
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert Path(tempfile.gettempdir()) == folder.parent
        (folder / "P001.audit.pkl").write_bytes(b"raw")
    assert not folder.exists()


def test_private_folder_is_removed_on_sigterm_and_ctrl_c():
    for sig, status in (
        (signal.SIGTERM, 128 + signal.SIGTERM),
        (signal.SIGINT, -signal.SIGINT),
    ):  # Python ends as killed by SIGINT
        child = run_python("""
            import time
            from kpitools.io.workspace import private_folder
            with private_folder() as folder:
                print(folder, flush=True)
                time.sleep(120)
        """)
        folder = Path(child.stdout.readline().strip())
        assert folder.is_dir()
        child.send_signal(sig)
        assert child.wait(timeout=60) == status
        assert not folder.exists(), sig


def test_private_folders_of_killed_runs_are_removed_by_the_next_run():
    child = run_python("""
        import time
        from kpitools.io.workspace import private_folder
        with private_folder() as folder:
            print(folder, flush=True)
            time.sleep(120)
    """)
    orphan = Path(child.stdout.readline().strip())
    child.kill()  # SIGKILL: nothing of the child runs
    child.wait()
    assert orphan.is_dir()
    with private_folder():
        assert not orphan.exists()


# --- states that cannot jam (issue 29) --------------------------------------------------


@pytest.mark.parametrize("name", ["P001", ".replaced-P001", ".building-P001"])
def test_anything_but_a_folder_where_a_provider_goes_is_refused(tmp_path, name):
    # a file at OUT/PERIOD/P001 was renamed aside and never removed: the first run exit 0,
    # every later run a traceback in publish until someone deleted .replaced-P001
    (tmp_path / name).write_text("someone's file")
    with pytest.raises(PackError) as refused:
        check_provider_places(tmp_path, ["P001", "P002"])
    assert refused.value.one_line() == (
        f"{tmp_path / name}: a file, not a folder, is where provider P001's outputs go; "
        "move it out of the way and run again"
    )
    (tmp_path / name).unlink()
    (tmp_path / name).symlink_to(tmp_path)
    with pytest.raises(PackError, match="a link, not a folder"):
        check_provider_places(tmp_path, ["P001"])
    (tmp_path / name).unlink()
    (tmp_path / "P001").mkdir()
    check_provider_places(tmp_path, ["P001", "P002"])  # a folder, or nothing: fine


def test_a_file_left_aside_by_an_older_run_does_not_stop_the_swap(tmp_path):
    (tmp_path / ".replaced-P001").write_text("left by a run of an older kpitools")
    staging = staging_folder(tmp_path / "P001")
    (staging / "audit_pack.html").write_text("new")
    replace_folder(staging, tmp_path / "P001")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["P001"]


def test_kernel_socket_folders_of_killed_runs_are_swept_too():
    temp = Path(tempfile.gettempdir())
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead = int(child.stdout)  # a process that has ended: its pid is free
    orphan = Path(tempfile.mkdtemp(prefix=f"{KERNEL_PREFIX}{dead}-", dir=temp))
    (orphan / "kernel-1").write_text("")  # a socket left behind
    alive = Path(tempfile.mkdtemp(prefix=f"{KERNEL_PREFIX}{os.getpid()}-", dir=temp))
    try:
        with private_folder():
            assert not orphan.exists() and alive.is_dir()
    finally:
        shutil.rmtree(alive, ignore_errors=True)
        shutil.rmtree(orphan, ignore_errors=True)


def test_a_kernels_socket_folder_is_named_for_its_process():
    from kpitools.run.kernel import IpcKernelManager

    manager = IpcKernelManager()
    folder = Path(manager.ip).parent
    try:
        assert folder.name.startswith(f"{KERNEL_PREFIX}{os.getpid()}-")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_the_waiting_lock_waits_its_turn_then_gives_up(tmp_path):
    holder = run_python(
        """
        import sys, time
        from pathlib import Path
        from kpitools.io.workspace import waiting_lock
        with waiting_lock(Path(sys.argv[1]), wait=1):
            print("held", flush=True)
            time.sleep(float(sys.argv[2]))
        """,
        str(tmp_path / "turn.lock"),
        "1.0",
    )
    assert holder.stdout.readline().strip() == "held"
    started = time.monotonic()
    with waiting_lock(tmp_path / "turn.lock", wait=30):  # waits for the holder to finish
        waited = time.monotonic() - started
    holder.communicate(timeout=30)
    assert 0.3 < waited < 30
    assert (tmp_path / "turn.lock").stat().st_mode & 0o777 == 0o600
    holder = run_python(
        """
        import sys, time
        from pathlib import Path
        from kpitools.io.workspace import waiting_lock
        with waiting_lock(Path(sys.argv[1]), wait=1):
            print("held", flush=True)
            time.sleep(30)
        """,
        str(tmp_path / "turn.lock"),
    )
    assert holder.stdout.readline().strip() == "held"
    try:
        with pytest.raises(TimeoutError, match="held by another process"):
            with waiting_lock(tmp_path / "turn.lock", wait=0.3):
                pass
    finally:
        holder.kill()
        holder.communicate(timeout=30)
