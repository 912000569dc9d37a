"""Reads a subunit v2 stream (path in argv[1], or stdin) and prints one JSON object per test:
{"id": ..., "status": ..., "reason": ...}. Run with Debian's /usr/bin/python3 (python3-subunit)."""
import json
import sys

import subunit
import testtools


def one_line(text):
    """The most telling single line of a skip reason or traceback."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return ""
    for line in reversed(lines):
        # The exception line of a traceback is the last one that is not a frame or source line.
        if not line.startswith(("File ", "Traceback", "^")):
            return shorten(line)
    return shorten(lines[-1])


def shorten(line):
    # Tempest packs response bodies into one line with escaped newlines; keep the head.
    return line.split("\\n")[0][:240]


def reason_of(details):
    for key in ("reason", "traceback"):
        if key in details:
            try:
                return one_line(details[key].as_text())
            except Exception:  # noqa: BLE001 - a broken attachment must not stop the report
                return ""
    return ""


def main():
    source = open(sys.argv[1], "rb") if len(sys.argv) > 1 else sys.stdin.buffer
    out = sys.stdout

    def on_test(test):
        out.write(json.dumps({
            "id": test["id"],
            "status": test["status"],
            "reason": reason_of(test["details"]),
        }) + "\n")

    result = testtools.StreamToDict(on_test)
    result.startTestRun()
    try:
        subunit.ByteStreamToStreamResult(source, non_subunit_name="stdout").run(result)
    finally:
        result.stopTestRun()
    out.flush()


if __name__ == "__main__":
    main()
