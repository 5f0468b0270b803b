"""The notebook loop `prepare` replaces (the seed article's method): pandas reads the CSV, a
loop fills the prompt per row and json.dumps a Claude Messages record per line. Prints
"seconds peak_rss_kib" for the benchmark's side-by-side figures."""

import json
import resource
import sys
import time

import pandas as pd


def main(path, out):
    start = time.perf_counter()
    df = pd.read_csv(path)
    with open(out, "w") as f:
        for i, row in enumerate(df.itertuples(index=False), 1):
            prompt = f"Summarise this conversation with {row.customer}:\n{row.conversation}"
            body = {
                "anthropic_version": "bedrock-2023-05-31",
                "max_tokens": 1024,
                "messages": [{"role": "user", "content": [{"type": "text", "text": prompt}]}],
            }
            f.write(json.dumps({"recordId": f"r{i:010d}", "modelInput": body}) + "\n")
    secs = time.perf_counter() - start
    print(secs, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
