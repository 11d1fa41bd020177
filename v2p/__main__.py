"""``python -m v2p``: the same as the ``v2p`` command."""
from .cli import main

raise SystemExit(main())
