#!/usr/bin/python3
"""Parses Prometheus text exposition format with the official client's parser
(python3-prometheus-client) and prints it as JSON for the integration tests.

usage: parse_metrics.py METRICS_FILE  ->  {"families": {name: {"type": t, "samples":
[{"name": n, "labels": {...}, "value": v}]}}} on stdout; exit 1 with the parser's
message when the text is not valid."""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        text = f.read()
    families = {}
    try:
        for family in text_string_to_metric_families(text):
            families[family.name] = {
                "type": family.type,
                "samples": [
                    {"name": s.name, "labels": dict(s.labels), "value": repr(s.value)}
                    for s in family.samples
                ],
            }
    except Exception as error:  # the parser raises ValueError and friends
        print("invalid metrics: %s" % error, file=sys.stderr)
        return 1
    json.dump({"families": families}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
