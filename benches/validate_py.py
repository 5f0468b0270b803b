"""The straightforward Python version of validate's checks for Anthropic Messages records,
with json.loads, for the benchmark's ratio. Prints the seconds it took."""

import json
import sys
import time

ALLOWED = {"text", "image", "document", "tool_use", "tool_result", "thinking", "redacted_thinking"}


def main(path):
    start = time.perf_counter()
    ids = {}
    problems = 0
    records = 0
    with open(path, "rb") as f:
        for n, raw in enumerate(f, 1):
            line = raw.rstrip(b"\r\n")
            if not line.strip():
                continue
            records += 1
            try:
                rec = json.loads(line)
            except ValueError:
                problems += 1
                continue
            if not isinstance(rec, dict):
                problems += 1
                continue
            rid = rec.get("recordId")
            if rid is not None:
                if rid in ids:
                    problems += 1
                else:
                    ids[rid] = n
            m = rec.get("modelInput")
            if not isinstance(m, dict) or m.get("anthropic_version") != "bedrock-2023-05-31":
                problems += 1
                continue
            mt = m.get("max_tokens")
            if not isinstance(mt, int) or mt <= 0 or mt > 4096:
                problems += 1
            msgs = m.get("messages")
            if not isinstance(msgs, list) or not msgs:
                problems += 1
                continue
            for i, msg in enumerate(msgs):
                if msg.get("role") != ("user" if i % 2 == 0 else "assistant"):
                    problems += 1
                c = msg.get("content")
                if isinstance(c, list):
                    for b in c:
                        if b.get("type") not in ALLOWED:
                            problems += 1
                elif not isinstance(c, str):
                    problems += 1
    print(time.perf_counter() - start)
    return problems


if __name__ == "__main__":
    main(sys.argv[1])
