"""`builder serve`: build into a preview folder, serve it, watch the sources, reload the browser.

The modules, in the order a change travels: events (which file changes matter, and when a burst
has settled; pure) -> watcher (watchdog glue) -> loop (the one rebuild thread) -> status (the
latest build, shared with the server) -> server and lookup (HTTP, the reload script, Server-Sent
Events; reload.js runs in the page). preview is the only module that knows the build pipeline;
session starts and stops the pieces together; command is the CLI's part.
"""
