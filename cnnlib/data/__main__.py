"""``python -m cnnlib.data``: fetch, check or download the MNIST files (see :func:`cnnlib.data.main`).

A package's ``__main__`` module, so that running the command does not import ``cnnlib.data`` twice.
"""

import sys

from cnnlib.data import main

sys.exit(main())
