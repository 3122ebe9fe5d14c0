"""Shared test setup: Qt runs headless (offscreen) unless a display is chosen explicitly, and
the inference backend cache (exported graphs, "auto" choices) goes to a folder of this test
run instead of the user's cache. Archiving does not depend on the test machine's free disk
space (tests of that guard set their own limit)."""

import atexit
import os
import shutil
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("LINEINSPECTOR_ARCHIVE_MIN_FREE_MB", "0")
if "LINEINSPECTOR_CACHE" not in os.environ:
    _cache = tempfile.mkdtemp(prefix="lineinspector-test-cache-")
    os.environ["LINEINSPECTOR_CACHE"] = _cache
    atexit.register(shutil.rmtree, _cache, ignore_errors=True)
