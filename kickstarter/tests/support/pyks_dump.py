#!/usr/bin/env python3
"""Run pykickstart over kickstart files and print one JSON object per file.

Used by tests/pykickstart_crosscheck.rs as an independent reference parser.
The kickstart files are passed as *paths on the command line* (argv), never
through a shell, and pykickstart only reads them; nothing is executed.

Output (stdout): a JSON list, one entry per argument, in argument order:
  {
    "path": the argument,
    "verdict": "accepted" | "rejected",        # with makeVersion() (latest syntax)
    "error": {"line": N or null, "message": text} of the first fatal error
             (null when accepted),
    "accepted_by": name of the first older syntax version that accepts the file
                   when the latest rejects it (tried: F16, F14), else null,
    "lenient_errors": every error ({"line", "message"}) seen when parsing again
                      with errorsAreFatal=False, unknownSectionIsFatal=False and
                      missingIncludeIsFatal=False (so the package selection is
                      read even past a missing include),
    "lenient_complete": false when even the lenient parse had to stop early,
    "packages", "groups", "excluded_packages", "excluded_groups": sorted lists
                      from the lenient parse (pykickstart's own set semantics),
    "environment": the @^environment or null
  }
Exit status: 0 on success, 3 when pykickstart cannot be imported (with a hint
on stderr), 2 on usage errors.
"""

import json
import sys
import warnings

try:
    from pykickstart.errors import KickstartError
    from pykickstart.parser import KickstartParser
    from pykickstart.version import F14, F16, makeVersion, versionToString
except ImportError as exc:  # pragma: no cover - exercised by the Rust test
    sys.stderr.write(
        "pykickstart cannot be imported (%s).\n"
        "Install it with:  python3 -m venv /tmp/pyks && /tmp/pyks/bin/pip install pykickstart\n"
        "then run the tests with IMG_TEST_PYTHON=/tmp/pyks/bin/python\n" % exc
    )
    sys.exit(3)


def describe(exc):
    """Turn an exception into {"line", "message"} with whitespace normalised."""
    if isinstance(exc, KickstartError):
        line, message = exc.lineno, exc.message
    else:
        line, message = None, str(exc)
    return {"line": line, "message": " ".join(str(message).split()) or type(exc).__name__}


class RecordingParser(KickstartParser):
    """A parser that records the errors it would otherwise print and skip."""

    def __init__(self, *args, **kwargs):
        KickstartParser.__init__(self, *args, **kwargs)
        self.recorded = []

    def _tryFunc(self, fn):
        try:
            fn()
        except Exception as exc:  # pylint: disable=broad-except
            self.errorsCount += 1
            if self.errorsAreFatal:
                raise
            self.recorded.append(describe(exc))


def strict(path, version=None):
    """Parse with errors fatal; return None when accepted, else the error."""
    handler = makeVersion() if version is None else makeVersion(version)
    parser = KickstartParser(handler)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parser.readKickstart(path)
    except (KickstartError, ValueError, IndexError) as exc:
        # ValueError: shlex ("No closing quotation"); IndexError: pykickstart
        # indexes args[0] of lines it assumed non-empty.
        return describe(exc)
    return None


def lenient(path):
    """Parse with non-fatal errors and collect the package selection."""
    handler = makeVersion()
    parser = RecordingParser(
        handler, errorsAreFatal=False, unknownSectionIsFatal=False, missingIncludeIsFatal=False
    )
    complete = True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            parser.readKickstart(path)
        except (KickstartError, ValueError, IndexError) as exc:
            complete = False
            parser.recorded.append(describe(exc))
    pk = handler.packages
    return {
        "lenient_errors": parser.recorded,
        "lenient_complete": complete,
        "packages": sorted(pk.packageList),
        "groups": sorted(g.name for g in pk.groupList),
        "excluded_packages": sorted(pk.excludedList),
        "excluded_groups": sorted({g.name for g in pk.excludedGroupList}),
        "environment": pk.environment,
    }


def dump(path):
    entry = {"path": path}
    error = strict(path)
    entry["verdict"] = "accepted" if error is None else "rejected"
    entry["error"] = error
    entry["accepted_by"] = None
    if error is not None:
        for version in (F16, F14):
            if strict(path, version) is None:
                entry["accepted_by"] = versionToString(version)
                break
    entry.update(lenient(path))
    return entry


def main(argv):
    if len(argv) < 2:
        sys.stderr.write("usage: pyks_dump.py FILE.ks...\n")
        return 2
    json.dump([dump(p) for p in argv[1:]], sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
