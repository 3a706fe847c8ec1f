import sys

from pytest_gpuslo.cli import main

sys.exit(main())
