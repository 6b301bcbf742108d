"""Reliability suite (issue 5): bad inputs, interruptions and failures never crash with a traceback or lose results.

Every case drives the real command line (``fake_cli``: a subprocess, ``python -m dbdbench``, or for argument
handling ``fake_cli.in_process`` through ``dbdbench.cli.main``) and checks: the exit code; on failure exactly one
``error:`` line on stderr that names the file / method / image, and no Python traceback; that maps already written
survive; and that ``--skip-bad`` lists what it skipped in the result.

Fake methods come from ``tests/reliability_plugins.py``; the photos they read (``marked_photos``) are generated in
temporary folders. Each module is one concern; every case is recorded in the case log (``log.py``), which
``DBDBENCH_RELIABILITY_REPORT=path.json`` writes out and ``tables.py`` renders into ``docs/reliability.md``.
"""
