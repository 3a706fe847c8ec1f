from pytest_gpuslo.cli import main
import sys
sys.exit(main())
