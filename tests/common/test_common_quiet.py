"""webtext/quiet.py: Beam's worker chatter is dropped from stderr, everything else kept, and a
long-lived child (a local Dask cluster's worker) does not hold a pipeline's stderr filter open."""

import subprocess
import sys
import textwrap

REPO = __file__.rsplit("/tests/", 1)[0]

SCRIPT = textwrap.dedent("""
    import subprocess, sys, time
    from webtext.quiet import children_stderr, filtered_stderr

    with filtered_stderr():
        subprocess.run([sys.executable, "-c",
                        "import sys; sys.stderr.write('INFO:apache_beam.runners.worker: channel up\\\\nkept one\\\\n')"])
        with children_stderr():  # as a local Dask cluster's workers are started
            child = subprocess.Popen([sys.executable, "-c",
                                      "import sys, time; sys.stderr.write('WARNING:root:apitools not found, and more\\\\n"
                                      "kept two\\\\n'); sys.stderr.flush(); time.sleep(6); sys.stderr.write('kept three\\\\n')"])
        time.sleep(1.0)  # the child has written its first lines
        start = time.monotonic()
    print(f"exit took {time.monotonic() - start:.2f}", file=sys.stderr, flush=True)
    print("after the block", file=sys.stderr, flush=True)
    child.wait()
""")


def test_noise_dropped_lines_kept_and_a_long_lived_child_does_not_hold_the_filter_open():
    proc = subprocess.run([sys.executable, "-c", SCRIPT], cwd=REPO, capture_output=True, text=True, timeout=60,
                          env={"PYTHONPATH": REPO, "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr
    err = proc.stderr
    assert "kept one" in err and "kept two" in err and "after the block" in err
    assert "kept three" in err  # the child's filter outlives the block and still delivers its lines
    assert "channel up" not in err and "apitools" not in err
    took = float(err.split("exit took ")[1].split()[0])
    assert took < 3.0, f"leaving filtered_stderr waited {took} s for a child that outlives it"
