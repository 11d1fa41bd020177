"""The ``v2p`` command line, on top of every other package (it imports them; nothing imports it).

    v2p list | run | train | eval | reconstruct      (v2p --help, v2p <command> --help)
"""
