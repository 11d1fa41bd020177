"""One module per ``v2p`` sub-command: ``add_parser(subparsers)`` and its handler."""
