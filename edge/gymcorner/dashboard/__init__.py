"""The dashboard served by the box: logins, members, their history as charts, plans.

`gymcorner dashboard` serves `app.build_app` with uvicorn. It reads and writes the same
SQLite file the daemon writes (WAL: readers never wait for the daemon's writer), opening
its own connection for each request in a worker thread, so a slow disk never stalls the
event loop and nothing is shared with the daemon's process. See docs/dashboard.md.
"""
