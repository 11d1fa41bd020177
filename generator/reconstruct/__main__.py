"""``python -m generator.reconstruct video.mp4 --caption ... --objects ... --out DIR``."""
import sys

from generator.reconstruct.cli import main

sys.exit(main())
