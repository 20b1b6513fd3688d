#!/usr/bin/env python3
"""Times pykickstart parsing kickstart texts, for the `corpus` benchmark.

usage: pykickstart_parse.py MIN_SECONDS FILE...

Reads every FILE into memory first, then parses all of them with a fresh pykickstart
handler each (latest syntax, errors not fatal, as a validator would run it) until at least
MIN_SECONDS have passed. Only the parsing is timed, in this process, after imports.
Prints {"passes": N, "seconds_per_pass": S, "files": F} as JSON.
"""

import json
import sys
import time
import warnings

from pykickstart.parser import KickstartParser
from pykickstart.version import makeVersion


def one_pass(texts):
    for text in texts:
        parser = KickstartParser(
            makeVersion(),
            errorsAreFatal=False,
            missingIncludeIsFatal=False,
            unknownSectionIsFatal=False,
        )
        try:
            parser.readKickstartFromString(text)
        except Exception:  # pylint: disable=broad-except
            # A file pykickstart refuses still cost the time to read up to the refusal.
            pass


def main():
    min_seconds = float(sys.argv[1])
    texts = []
    for path in sys.argv[2:]:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            texts.append(f.read())
    warnings.simplefilter("ignore")
    one_pass(texts)  # warm up
    passes = 0
    start = time.perf_counter()
    while True:
        one_pass(texts)
        passes += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds and passes >= 3:
            break
    print(json.dumps({"passes": passes, "seconds_per_pass": elapsed / passes, "files": len(texts)}))


if __name__ == "__main__":
    main()
