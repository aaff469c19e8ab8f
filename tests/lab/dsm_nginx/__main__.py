import sys

from tests.lab.dsm_nginx.tree import main

sys.exit(main(sys.argv[1:]))
