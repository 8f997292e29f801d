"""`builder check`: build into a temporary folder, then report what a build lets through.

Broken links and anchors, missing images and alt texts, articles no topic page reaches, duplicate
titles and unused data files. The build never imports this package; it only reads what was built.
"""

from builder.check.command import add_check_command, run_check

__all__ = ["add_check_command", "run_check"]
