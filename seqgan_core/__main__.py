import sys

from seqgan_core.cli import main

sys.exit(main())
