"""Small pieces every multi-process test script uses: failing a check, stopping the processes it started, and
running its main() so a failed check prints one FAILED line and exits 1."""
import signal
import subprocess
import sys


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def stop_processes(processes, timeout=30):
    """SIGTERM to every process still running, then SIGKILL to any that has not exited within `timeout`."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run_main(main):
    try:
        main()
    except AssertionError as error:
        print(f"FAILED: {error}", file=sys.stderr)
        sys.exit(1)
