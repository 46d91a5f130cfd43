from j1gitops.cli import main

main()
